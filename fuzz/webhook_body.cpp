// What the delivery log keeps of a receiver's answer (src/webhooks/targets.hpp
// loggable_body: bytes from any server on the Internet). Invariants: at most
// `limit` bytes, valid UTF-8 (shortest forms, no surrogates, at most
// U+10FFFF) without NUL; the input's valid characters are kept in order and
// every invalid byte becomes exactly one '?'; a result kept again is itself.
#include "fuzz.hpp"
#include "webhooks/targets.hpp"

#include <string>

namespace {

// True when `s` is valid UTF-8 without NUL.
bool valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    std::size_t n = c < 0x80                 ? 1
                    : c >= 0xc2 && c <= 0xdf ? 2
                    : c >= 0xe0 && c <= 0xef ? 3
                    : c >= 0xf0 && c <= 0xf4 ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (std::size_t k = 1; k < n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  std::size_t limit = in.byte() * 8;
  std::string_view body = in.rest();
  std::string kept = reel::webhooks::loggable_body(body, limit);
  FUZZ_CHECK(kept.size() <= limit);
  FUZZ_CHECK(valid(kept));
  FUZZ_CHECK(reel::webhooks::loggable_body(kept, limit) == kept);
  if (valid(body) && body.size() <= limit) FUZZ_CHECK(kept == body);
  return 0;
}
