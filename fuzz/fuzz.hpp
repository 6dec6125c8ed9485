// What every fuzz target shares: the libFuzzer entry point's signature, a
// check that aborts with a message (libFuzzer and the replay driver both
// count an abort as a failure), and a small data provider that carves the
// input into typed pieces (libFuzzer's FuzzedDataProvider is clang-only; the
// replay driver builds with g++).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// An invariant of the parser under test; on failure prints where and aborts.
#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace reel::fuzz {

// Takes typed values from the front of the input; once it is used up every
// value is zero or empty. Deterministic: the same input gives the same values.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  bool flag() { return byte() & 1; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return v;
  }
  // A value in [0, n] whose size in bytes depends on n.
  std::uint64_t upto(std::uint64_t n) {
    std::uint64_t v = 0;
    for (std::uint64_t m = n; m != 0; m >>= 8) v = (v << 8) | byte();
    return n == UINT64_MAX ? v : v % (n + 1);
  }
  // The bytes up to the next NUL (which is dropped), or the rest.
  std::string_view text() {
    auto nul = rest_.find('\0');
    std::string_view s = rest_.substr(0, nul);
    rest_ = nul == std::string_view::npos ? std::string_view{} : rest_.substr(nul + 1);
    return s;
  }
  std::string_view rest() {
    std::string_view s = rest_;
    rest_ = {};
    return s;
  }
  bool empty() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace reel::fuzz
