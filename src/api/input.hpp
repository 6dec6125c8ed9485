// Parsing untrusted JSON bodies into typed values once, at the edge. Every
// failure is error(bad_request) whose message names the field.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace reel::api {

// The body as an object, or error(bad_request).
const boost::json::object& require_object(const boost::json::value& v);

struct text_rule {
  std::size_t min_chars = 1;
  std::size_t max_chars = 100;
  bool trim = true;
};

// A string field, trimmed, with its length in characters (code points) in
// range and no control characters.
std::string require_text(const boost::json::object& o, const char* field, text_rule rule = {});
std::optional<std::string> optional_text(const boost::json::object& o, const char* field, text_rule rule = {});

// An email address, trimmed and lower-cased.
std::string require_email(const boost::json::object& o, const char* field = "email");

// A password: 8..1024 characters, kept exactly as sent.
std::string require_password(const boost::json::object& o, const char* field = "password");

// Code points in a valid UTF-8 string.
std::size_t utf8_length(const std::string& s);

// The number of code points when `s` is valid UTF-8 (shortest forms, no
// surrogates, at most U+10FFFF), else nullopt.
std::optional<std::size_t> utf8_check(std::string_view s);

// Characters no text field may hold: C0 and C1 controls, DEL, and the
// bidirectional embeddings, overrides and isolates (U+202A..U+202E,
// U+2066..U+2069) that make text display as something else.
bool is_unsafe_char(char32_t cp);
// True when valid UTF-8 `s` holds one of them.
bool has_unsafe_char(std::string_view s);

}  // namespace reel::api
