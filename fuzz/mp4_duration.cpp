// The duration an MP4 declares in its movie header (src/media/mp4_duration.hpp).
// The whole input is the file. Invariants: no read starts at or past the
// end of the data, the number of reads is bounded (1024 boxes on each of
// two levels, then the header), and a duration found is finite and not
// negative.
#include "media/mp4_duration.hpp"
#include "fuzz.hpp"

#include <cmath>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::size_t reads = 0;
  auto read_at = [&](std::uint64_t offset, std::span<unsigned char> out) -> std::size_t {
    FUZZ_CHECK(offset < size);
    ++reads;
    std::size_t n = std::min<std::size_t>(out.size(), size - offset);
    std::memcpy(out.data(), data + offset, n);
    return n;
  };
  auto seconds = reel::media::mp4_declared_duration(size, read_at);
  FUZZ_CHECK(reads <= 2 * 1024 + 1);
  if (seconds) FUZZ_CHECK(std::isfinite(*seconds) && *seconds >= 0);
  return 0;
}
