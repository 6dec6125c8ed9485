// The JSON shapes of docs/API.md for the accounts aggregate.
#pragma once

#include "db/accounts.hpp"

#include <boost/json/object.hpp>

namespace reel::api {

// {id, email, name, createdAt}
boost::json::object user_json(const db::user& u);
// {id, name, role, createdAt}
boost::json::object organization_json(const db::organization& o, std::string_view role);
boost::json::object organization_json(const db::membership& m);
// {user: {id, email, name}, role}
boost::json::object member_json(const db::member& m);

}  // namespace reel::api

#include "db/videos.hpp"

namespace reel::api {

// docs/API.md's video shape.
boost::json::object video_json(const db::video& v);

}  // namespace reel::api
