#include "http/content_disposition.hpp"

#include <cstdint>

namespace reel::http {

namespace {

constexpr std::size_t k_max_name_bytes = 150;
constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD

// The code point at the start of `s` and its length in bytes; a byte that
// does not start a well-formed UTF-8 sequence is returned as -1, length 1.
std::pair<std::int32_t, std::size_t> next_code_point(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) return {c, 1};
  std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || s.size() < n) return {-1, 1};
  std::int32_t cp = c & (0x7F >> n);
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  // Overlong forms, surrogates and past U+10FFFF are not UTF-8.
  bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return {-1, 1};
  return {cp, n};
}

bool is_dropped(std::int32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == '/' || cp == '\\';
}

bool is_refused_by_windows(std::int32_t cp) {
  return cp == '<' || cp == '>' || cp == ':' || cp == '"' || cp == '|' || cp == '?' || cp == '*';
}

// The title with what cannot be in a name dropped or replaced, cut to the limit.
std::string clean_title(std::string_view title) {
  std::string out;
  while (!title.empty()) {
    auto [cp, len] = next_code_point(title);
    std::string_view piece = title.substr(0, len);
    title.remove_prefix(len);
    if (cp >= 0 && is_dropped(cp)) continue;
    if (cp == '"')
      piece = "'";
    else if (cp >= 0 && is_refused_by_windows(cp))
      piece = "_";
    else if (cp < 0)
      piece = k_replacement;
    if (out.size() + piece.size() > k_max_name_bytes) break;
    out += piece;
  }
  auto trimmed = [](char c) { return c == ' ' || c == '.'; };
  std::size_t first = 0, last = out.size();
  while (first < last && trimmed(out[first])) ++first;
  while (last > first && trimmed(out[last - 1])) --last;
  return out.substr(first, last - first);
}

std::string ascii_form(std::string_view name) {
  std::string out;
  bool meaningful = false;
  while (!name.empty()) {
    auto [cp, len] = next_code_point(name);
    name.remove_prefix(len);
    char c = cp >= 0x20 && cp < 0x7F && cp != '%' && cp != '"' ? static_cast<char>(cp) : '_';
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) meaningful = true;
    out += c;
  }
  return meaningful ? out : std::string("video");
}

bool is_attr_char(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (is_attr_char(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

download_name make_download_name(std::string_view title, std::string_view extension) {
  std::string name = clean_title(title);
  if (name.empty()) name = "video";
  download_name out{ascii_form(name), name};
  out.ascii += extension;
  out.utf8 += extension;
  return out;
}

std::string attachment_disposition(std::string_view title, std::string_view extension) {
  download_name n = make_download_name(title, extension);
  return "attachment; filename=\"" + n.ascii + "\"; filename*=UTF-8''" + percent_encode(n.utf8);
}

}  // namespace reel::http
