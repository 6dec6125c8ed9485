// HTTP Range (RFC 9110 §14) for byte ranges of a representation of known length.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace reel::http {

struct byte_range {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  std::uint64_t length() const noexcept { return last - first + 1; }
};

struct range_request {
  enum class kind {
    ignore,         // no Range, another unit, bad syntax or too many ranges: send 200 and the whole body
    satisfiable,    // send 206 with `ranges` (clamped, in the order asked)
    unsatisfiable,  // send 416 with Content-Range: bytes */length
  } outcome = kind::ignore;
  std::vector<byte_range> ranges;
};

// Parses `header` (the Range field value) against a body of `length` bytes.
// Huge numbers are handled without overflow; more than `max_ranges` ranges,
// or ranges that together ask for more than twice the body, are ignored.
range_request parse_range(std::string_view header, std::uint64_t length, std::size_t max_ranges = 16);

}  // namespace reel::http
