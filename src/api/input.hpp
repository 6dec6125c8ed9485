// Parsing untrusted JSON bodies into typed values once, at the edge. Every
// failure is error(bad_request) whose message names the field.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>

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

}  // namespace reel::api
