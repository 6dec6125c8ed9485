#include "http/range.hpp"

#include "core/strings.hpp"

#include <cctype>
#include <limits>
#include <optional>

namespace reel::http {

namespace {

// Digits only; saturates at the maximum instead of overflowing.
std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t n = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<std::uint64_t>(c - '0');
    n = n > (max - d) / 10 ? max : n * 10 + d;
  }
  return n;
}

}  // namespace

range_request parse_range(std::string_view header, std::uint64_t length, std::size_t max_ranges) {
  range_request out;
  header = trim_ows(header);
  if (header.size() < 6) return out;
  for (std::size_t i = 0; i < 5; ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != "bytes"[i]) return out;
  if (header[5] != '=') return out;
  header.remove_prefix(6);

  std::vector<byte_range> ranges;
  std::size_t specs = 0;
  bool any_satisfiable = false;
  while (true) {
    auto comma = header.find(',');
    std::string_view spec = trim_ows(header.substr(0, comma));
    if (!spec.empty()) {
      if (++specs > max_ranges) return {};
      auto dash = spec.find('-');
      if (dash == std::string_view::npos) return {};
      std::string_view a = trim_ows(spec.substr(0, dash)), b = trim_ows(spec.substr(dash + 1));
      if (a.empty()) {  // suffix: -n
        auto n = parse_number(b);
        if (!n) return {};
        if (*n > 0 && length > 0) {
          std::uint64_t take = std::min(*n, length);
          ranges.push_back({length - take, length - 1});
          any_satisfiable = true;
        }
      } else {
        auto first = parse_number(a);
        if (!first) return {};
        std::optional<std::uint64_t> last;
        if (!b.empty()) {
          last = parse_number(b);
          if (!last || *last < *first) return {};
        }
        if (*first < length) {
          ranges.push_back({*first, last ? std::min(*last, length - 1) : length - 1});
          any_satisfiable = true;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  if (specs == 0) return {};
  if (!any_satisfiable) {
    // An empty body has nothing to range over: send it whole.
    if (length == 0) return {};
    out.outcome = range_request::kind::unsatisfiable;
    return out;
  }
  // Overlapping abuse (more than twice the body in all): send it once,
  // whole. Twice the body may not fit in 64 bits, so the sum is kept as
  // 2 * halves + odd, with halves never past the body's length.
  std::uint64_t halves = 0, odd = 0;
  bool too_much = false;
  for (const auto& r : ranges) {
    if (r.length() / 2 > length - halves) {
      too_much = true;
      break;
    }
    halves += r.length() / 2;
    odd += r.length() % 2;
  }
  if (ranges.size() > 1 && (too_much || (odd + 1) / 2 > length - halves)) return {};
  out.outcome = range_request::kind::satisfiable;
  out.ranges = std::move(ranges);
  return out;
}

}  // namespace reel::http
