// Parsing untrusted input (JSON bodies, query parameters, media types, file
// names) into typed, clean values once, at the edge. Every failure is
// error(bad_request) whose message names the field.
#pragma once

#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace reel::http {
struct context;
}

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

// A role: one of owner, admin, member, viewer.
model::role require_role(const boost::json::object& o, const char* field = "role");

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

// The query parameter `name` as an integer in [min, max]; nullopt when it
// is absent, error(bad_request) naming it when it is anything else.
std::optional<int> query_int(const http::context& ctx, const char* name, long min, long max);

// A Content-Type's "type/subtype" in lower case, without parameters or
// surrounding spaces ("Video/MP4; codecs=x" → "video/mp4").
std::string media_type(std::string_view content_type);

// The title a new upload gets when none is given: the file name without
// its extension, or "Untitled".
std::string default_title(std::string_view filename);

// A client's file name made safe to store and show: no directories, no
// control characters, at most 255 bytes of valid UTF-8; "upload" if nothing is left.
std::string clean_filename(std::string_view name);

// A User-Agent header made safe to store and show: no invalid UTF-8 or
// control characters, at most 256 bytes, without surrounding spaces; "" when
// nothing is left.
std::string clean_user_agent(std::string_view agent);

// A client's media type reduced to "type/subtype" in lower case, or
// application/octet-stream when it is not one.
std::string clean_media_type(std::string_view type);

// An upload's title and description, validated like the JSON fields
// (error(bad_request) naming the field); the title defaults to
// default_title(filename), the description to "".
// A video's visibility as sent (a form field, a query parameter, tus
// metadata): private when absent; error(bad_request) for an unknown name.
model::visibility visibility_field(const std::optional<std::string>& text);

std::pair<std::string, std::string> video_text_fields(const std::optional<std::string>& title,
                                                      const std::optional<std::string>& description,
                                                      const std::string& filename);

}  // namespace reel::api
