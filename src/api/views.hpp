// The JSON shapes of docs/API.md for the accounts aggregate.
#pragma once

#include "store/accounts.hpp"

#include <boost/json/object.hpp>

namespace reel::api {

// {id, email, name, createdAt}
boost::json::object user_json(const store::user& u);
// {id, name, role, createdAt}
boost::json::object organization_json(const store::organization& o, std::string_view role);
boost::json::object organization_json(const store::membership& m);
// {user: {id, email, name}, role}
boost::json::object member_json(const store::member& m);

}  // namespace reel::api

#include "store/videos.hpp"

namespace reel::api {

// docs/API.md's video shape.
boost::json::object video_json(const store::video& v);

}  // namespace reel::api
