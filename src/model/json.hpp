// The JSON shapes of docs/API.md, shared by the HTTP API and the Socket.IO
// events (a `video:ready` event carries the same video as GET /api/videos/:id).
#pragma once

#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace reel::model {

// {id, email, name, createdAt}
boost::json::object user_json(const user& u);
// {id, name, role, createdAt}
boost::json::object organization_json(const organization& o, role r);
boost::json::object organization_json(const membership& m);
// {user: {id, email, name}, role, joinedAt}
boost::json::object member_json(const member& m);
// docs/API.md's video shape.
boost::json::object video_json(const video& v);
// The same video as boost::json::serialize(video_json(v)) writes it, byte
// for byte, appended to `out` without building the object (a list page
// writes twenty of them per request).
void append_video_json(std::string& out, const video& v);
// `text` as a JSON string (quoted and escaped as boost::json::serialize
// escapes it), appended to `out`. `text` must not point into `out` (these
// writers make room in `out` before they read it).
void append_json_string(std::string& out, std::string_view text);
// The same without the quotes: `text` as it reads inside a JSON string.
void append_json_chars(std::string& out, std::string_view text);

}  // namespace reel::model
