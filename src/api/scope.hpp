// Authentication and tenancy for every route, in one place. `user()` wraps
// a handler so that it runs only for an authenticated caller; `org()` also
// selects the organization the request acts in and checks the caller's role.
#pragma once

#include "auth/service.hpp"
#include "http/message.hpp"
#include "model/accounts.hpp"

namespace reel::api {

class guard {
 public:
  explicit guard(auth::service& accounts) : accounts_(accounts) {}

  // 401 without valid credentials (Bearer token or the reel_session cookie).
  http::handler user(http::handler h) const;

  // As user(), then the organization: the route's `:orgId`, else the
  // X-Organization-Id header, else the caller's oldest membership. 403 when
  // the caller is not a member of it, or their role is below `min`.
  // Sets ctx.org.
  http::handler org(model::role min, http::handler h) const;

  // Authenticates ctx (sets ctx.principal) or throws error(unauthorized).
  boost::asio::awaitable<void> authenticate(http::context& ctx) const;

 private:
  auth::service& accounts_;
};

// The token a request carries: the Bearer token, else the session cookie.
std::optional<std::string> request_token(const http::context& ctx);

// The caller's membership in `org_id`, the organization of a resource found
// by its own id (a video, an upload): null when the caller is not a member,
// or when X-Organization-Id names another organization. Callers answer null
// as "not found", so that nothing of other tenants leaks.
const model::membership* resource_membership(const http::context& ctx, const std::string& org_id);

// Throws error(forbidden) unless the request's role is at least `min`.
void require_role(const http::context& ctx, model::role min);

}  // namespace reel::api
