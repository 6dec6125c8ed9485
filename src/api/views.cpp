#include "api/views.hpp"

namespace reel::api {

boost::json::object user_json(const store::user& u) {
  return {{"id", u.id}, {"email", u.email}, {"name", u.name}, {"createdAt", u.created_at}};
}

boost::json::object organization_json(const store::organization& o, std::string_view role) {
  return {{"id", o.id}, {"name", o.name}, {"role", role}, {"createdAt", o.created_at}};
}

boost::json::object organization_json(const store::membership& m) { return organization_json(m.org, m.role); }

boost::json::object member_json(const store::member& m) {
  return {{"user", {{"id", m.user_id}, {"email", m.email}, {"name", m.name}}}, {"role", m.role}, {"joinedAt", m.joined_at}};
}

}  // namespace reel::api
