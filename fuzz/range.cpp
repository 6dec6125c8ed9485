// The HTTP Range parser (src/http/range.hpp) against a body length taken
// from the input. Invariants: a satisfiable answer's ranges lie within the
// body, are at most max_ranges and, when several, ask for at most twice the
// body; the ranges written back as a header parse to the same ranges.
#include "http/range.hpp"
#include "fuzz.hpp"

#include <string>

using reel::http::byte_range;
using reel::http::parse_range;
using reel::http::range_request;

namespace {

std::string header_of(const std::vector<byte_range>& ranges) {
  std::string out = "bytes=";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ranges[i].first) + "-" + std::to_string(ranges[i].last);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  // Mostly small bodies (where clamping happens), sometimes any 64-bit length.
  const std::uint64_t length = in.flag() ? in.u64() : in.upto(4096);
  const std::size_t max_ranges = 1 + in.upto(31);
  const std::string_view header = in.rest();

  const range_request r = parse_range(header, length, max_ranges);
  switch (r.outcome) {
    case range_request::kind::ignore:
      FUZZ_CHECK(r.ranges.empty());
      return 0;
    case range_request::kind::unsatisfiable:
      FUZZ_CHECK(r.ranges.empty());
      FUZZ_CHECK(length > 0);
      return 0;
    case range_request::kind::satisfiable:
      break;
  }
  FUZZ_CHECK(!r.ranges.empty());
  FUZZ_CHECK(r.ranges.size() <= max_ranges);
  unsigned __int128 total = 0;
  for (const auto& b : r.ranges) {
    FUZZ_CHECK(b.first <= b.last);
    FUZZ_CHECK(b.last < length);
    FUZZ_CHECK(b.length() >= 1 && b.length() <= length);
    total += b.length();
  }
  if (r.ranges.size() > 1) FUZZ_CHECK(total <= 2 * static_cast<unsigned __int128>(length));

  // Written back as a header, the same ranges in the same order.
  const range_request again = parse_range(header_of(r.ranges), length, max_ranges);
  FUZZ_CHECK(again.outcome == range_request::kind::satisfiable);
  FUZZ_CHECK(again.ranges.size() == r.ranges.size());
  for (std::size_t i = 0; i < r.ranges.size(); ++i) {
    FUZZ_CHECK(again.ranges[i].first == r.ranges[i].first);
    FUZZ_CHECK(again.ranges[i].last == r.ranges[i].last);
  }
  return 0;
}
