#include "api/input.hpp"

#include "auth/password_policy.hpp"

#include "auth/passwords.hpp"
#include "core/errors.hpp"
#include "core/strings.hpp"
#include "http/message.hpp"

#include <boost/json/object.hpp>

#include <algorithm>

namespace reel::api {

namespace {

[[noreturn]] void bad(const std::string& message) { throw error(errc::bad_request, message); }

const boost::json::string* string_field(const boost::json::object& o, const char* field, bool required) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) {
    if (required) bad(std::string("The field \"") + field + "\" is required.");
    return nullptr;
  }
  if (!it->value().is_string()) bad(std::string("The field \"") + field + "\" must be a string.");
  return &it->value().get_string();
}

std::string trimmed(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::optional<std::size_t> utf8_check(std::string_view s) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    std::size_t len;
    char32_t cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;  // a continuation byte first, C0/C1 (overlong) or F5..FF
    }
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      if ((b(k) & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b(k) & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return std::nullopt;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;  // UTF-16 surrogates are not characters
    i += len;
  }
  return chars;
}

bool is_unsafe_char(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)           // C0, DEL, C1
         || (cp >= 0x202A && cp <= 0x202E)                 // bidi embeddings and overrides
         || (cp >= 0x2066 && cp <= 0x2069)                 // bidi isolates
         || cp == 0xFFF9 || cp == 0xFFFA || cp == 0xFFFB;  // interlinear annotation controls
}

bool has_unsafe_char(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (i + len > s.size()) return true;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (is_unsafe_char(cp)) return true;
    i += len;
  }
  return false;
}

std::size_t utf8_length(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

const boost::json::object& require_object(const boost::json::value& v) {
  if (!v.is_object()) bad("The request body must be a JSON object.");
  return v.get_object();
}

std::optional<std::string> optional_text(const boost::json::object& o, const char* field, text_rule rule) {
  auto* str = string_field(o, field, false);
  if (!str) return std::nullopt;
  std::string v = rule.trim ? trimmed(*str) : std::string(*str);
  // Text from multipart fields, query strings and tus metadata arrives here
  // unchecked (the JSON parser checks its own): invalid UTF-8 would break
  // every strict JSON client that lists it.
  if (!utf8_check(v)) bad(std::string("The field \"") + field + "\" must be valid UTF-8 text.");
  std::size_t n = utf8_length(v);
  if (n < rule.min_chars || n > rule.max_chars) {
    if (rule.min_chars > 0 && n == 0) bad(std::string("The field \"") + field + "\" must not be empty.");
    bad(std::string("The field \"") + field + "\" must be " + std::to_string(rule.min_chars) + " to " +
        std::to_string(rule.max_chars) + " characters long.");
  }
  if (has_unsafe_char(v))
    bad(std::string("The field \"") + field + "\" must not contain control characters or bidirectional overrides.");
  return v;
}

std::string require_text(const boost::json::object& o, const char* field, text_rule rule) {
  string_field(o, field, true);
  return *optional_text(o, field, rule);
}

std::string require_email(const boost::json::object& o, const char* field) {
  std::string v = trimmed(*string_field(o, field, true));
  std::transform(v.begin(), v.end(), v.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; });
  auto at = v.find('@');
  bool ok = v.size() >= 3 && v.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < v.size() &&
            v.find('@', at + 1) == std::string::npos && std::none_of(v.begin(), v.end(), [](char c) {
              auto u = static_cast<unsigned char>(c);
              return u <= 0x20 || u == 0x7f || c == ',' || c == ';' || c == '<' || c == '>' || c == '"';
            });
  if (!ok) bad(std::string("The field \"") + field + "\" must be an email address.");
  return v;
}

model::role require_role(const boost::json::object& o, const char* field) {
  std::string text = require_text(o, field, {.min_chars = 1, .max_chars = 16});
  auto role = model::parse_role(text);
  if (!role) bad(std::string("The field \"") + field + "\" must be one of owner, admin, member, viewer.");
  return *role;
}

std::string require_password(const boost::json::object& o, const char* field) {
  std::string v(*string_field(o, field, true));
  if (auto problem = auth::shape_problem(v)) bad(std::string("The field \"") + field + "\" " + *problem + ".");
  return v;
}

std::optional<int> query_int(const http::context& ctx, const char* name, long min, long max) {
  auto text = ctx.query(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < min || v > max)
    throw error(errc::bad_request, std::string("The parameter \"") + name + "\" must be an integer from " +
                                       std::to_string(min) + " to " + std::to_string(max) + ".");
  return static_cast<int>(v);
}

std::string media_type(std::string_view content_type) {
  std::string t(trim_ows(content_type.substr(0, content_type.find(';'))));
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

std::string default_title(std::string_view filename) {
  auto dot = filename.rfind('.');
  std::string stem(dot == std::string_view::npos || dot == 0 ? filename : filename.substr(0, dot));
  if (stem.empty() || stem == "upload") return "Untitled";
  std::size_t chars = 0, i = 0;
  for (; i < stem.size(); ++i)
    if ((static_cast<unsigned char>(stem[i]) & 0xC0) != 0x80 && ++chars > 200) break;
  return stem.substr(0, i);
}

namespace {
// `text` without invalid UTF-8, control characters and bidirectional
// overrides (a name like "clip\u202Egpj.exe" shows as "clipexe.jpg"), cut
// at `max_bytes` on a character boundary.
std::string safe_text(std::string_view text, std::size_t max_bytes) {
  std::string valid;
  for (std::size_t i = 0; i < text.size();) {
    auto u = static_cast<unsigned char>(text[i]);
    std::size_t len = u < 0x80 ? 1 : (u >> 5) == 6 ? 2 : (u >> 4) == 14 ? 3 : (u >> 3) == 30 ? 4 : 1;
    std::string_view one = text.substr(i, len);
    if (one.size() != len || !utf8_check(one) || has_unsafe_char(one)) {
      ++i;
      continue;
    }
    if (valid.size() + len > max_bytes) break;
    valid.append(one);
    i += len;
  }
  return valid;
}
}  // namespace

std::string clean_filename(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string valid = safe_text(name, 255);
  while (!valid.empty() && (valid.front() == ' ' || valid.front() == '.')) valid.erase(0, 1);
  if (valid.empty()) return "upload";
  return valid;
}

std::string clean_user_agent(std::string_view agent) {
  std::string valid = safe_text(agent, 256);
  auto first = valid.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return valid.substr(first, valid.find_last_not_of(' ') - first + 1);
}

std::string clean_media_type(std::string_view type) {
  std::string t = media_type(type);
  bool ok =
      !t.empty() && t.size() < 100 && t.find('/') != std::string::npos && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '+' || c == '.';
      });
  return ok ? t : "application/octet-stream";
}

model::visibility visibility_field(const std::optional<std::string>& text) {
  if (!text) return model::visibility::private_;
  auto v = model::parse_visibility(*text);
  if (!v) throw error(errc::bad_request, "The field \"visibility\" must be one of private, unlisted, public.");
  return *v;
}

std::pair<std::string, std::string> video_text_fields(const std::optional<std::string>& title,
                                                      const std::optional<std::string>& description,
                                                      const std::string& filename) {
  boost::json::object o;
  if (title) o["title"] = *title;
  if (description) o["description"] = *description;
  auto t = optional_text(o, "title", {.min_chars = 1, .max_chars = 200});
  auto d = optional_text(o, "description", {.min_chars = 0, .max_chars = 5000});
  return {t.value_or(default_title(filename)), d.value_or("")};
}

}  // namespace reel::api
