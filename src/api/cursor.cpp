#include "api/cursor.hpp"

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "storage/blobs.hpp"

namespace reel::api {

std::string encode_video_cursor(const model::video& v) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : v.created_at + "|" + v.id) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

model::video_cursor decode_video_cursor(const std::string& text) {
  auto bad = [] { return error(errc::bad_request, "The parameter \"cursor\" is not a cursor this server made."); };
  if (text.size() % 2 || text.size() > 400) throw bad();
  auto h = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw bad();
  };
  std::string raw;
  for (std::size_t i = 0; i < text.size(); i += 2) raw += static_cast<char>(h(text[i]) * 16 + h(text[i + 1]));
  auto bar = raw.find('|');
  if (bar == std::string::npos) throw bad();
  model::video_cursor c{raw.substr(0, bar), raw.substr(bar + 1)};
  if (!from_iso8601(c.created_at) || !storage::is_valid_id(c.id)) throw bad();
  return c;
}

}  // namespace reel::api
