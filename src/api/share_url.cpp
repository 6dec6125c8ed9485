#include "api/share_url.hpp"

namespace reel::api {

namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!is_id_char(c)) return false;
  return true;
}

bool valid_token(std::string_view t) {
  if (t.empty() || t.size() > k_max_token_bytes) return false;
  for (char c : t)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a query component ('+' is a space); nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Removes "http(s)://authority" from the front of `url`; false when `url`
// is neither such an absolute URL nor an absolute path.
bool strip_origin(std::string_view& url) {
  std::size_t skip = 0;
  if (iequals_prefix(url, "https://"))
    skip = 8;
  else if (iequals_prefix(url, "http://"))
    skip = 7;
  else
    return url.starts_with('/') && !url.starts_with("//");
  url.remove_prefix(skip);
  std::size_t end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  url = end == std::string_view::npos ? std::string_view{} : url.substr(end);
  return url.starts_with('/');
}

// The first `token` parameter of `query`; false for bad percent-encoding anywhere.
bool find_token(std::string_view query, std::optional<std::string>& token) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!key || !value) return false;
    if (*key == "token" && !token) {
      if (!valid_token(*value)) return false;
      token = std::move(*value);
    }
  }
  return true;
}

}  // namespace

std::optional<share_target> parse_share_url(std::string_view url) {
  if (url.empty() || url.size() > k_max_share_url_bytes) return std::nullopt;
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  if (!strip_origin(url)) return std::nullopt;
  if (auto hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
  std::string_view query;
  if (auto q = url.find('?'); q != std::string_view::npos) {
    query = url.substr(q + 1);
    url = url.substr(0, q);
  }
  share_target t;
  if (url.starts_with("/v/")) {
    url.remove_prefix(3);
  } else if (url.starts_with("/embed/")) {
    t.kind = share_target::page::embed;
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (url.ends_with('/')) url.remove_suffix(1);
  if (!valid_id(url)) return std::nullopt;
  t.video_id = std::string(url);
  if (!find_token(query, t.token)) return std::nullopt;
  return t;
}

std::string share_path(const share_target& t) {
  std::string out = (t.kind == share_target::page::embed ? "/embed/" : "/v/") + t.video_id;
  if (t.token) out += "?token=" + url_encode(*t.token);
  return out;
}

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace reel::api
