// The JSON shapes of docs/API.md, shared by the HTTP API and the Socket.IO
// events (a `video:ready` event carries the same video as GET /api/videos/:id).
#pragma once

#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <boost/json/object.hpp>

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

}  // namespace reel::model
