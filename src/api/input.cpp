#include "api/input.hpp"

#include "auth/passwords.hpp"
#include "core/errors.hpp"

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

bool has_control(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

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
  std::size_t n = utf8_length(v);
  if (n < rule.min_chars || n > rule.max_chars) {
    if (rule.min_chars > 0 && n == 0) bad(std::string("The field \"") + field + "\" must not be empty.");
    bad(std::string("The field \"") + field + "\" must be " + std::to_string(rule.min_chars) + " to " +
        std::to_string(rule.max_chars) + " characters long.");
  }
  if (has_control(v)) bad(std::string("The field \"") + field + "\" must not contain control characters.");
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

std::string require_password(const boost::json::object& o, const char* field) {
  std::string v(*string_field(o, field, true));
  std::size_t n = utf8_length(v);
  if (n < auth::k_min_password_length)
    bad(std::string("The field \"") + field + "\" must be at least " + std::to_string(auth::k_min_password_length) +
        " characters long.");
  if (n > auth::k_max_password_length)
    bad(std::string("The field \"") + field + "\" must be at most " + std::to_string(auth::k_max_password_length) +
        " characters long.");
  return v;
}

}  // namespace reel::api
