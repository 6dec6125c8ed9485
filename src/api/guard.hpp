// Authentication and tenancy for every route, in one place. `user()` wraps
// a handler so that it runs only for an authenticated caller; `org()` also
// selects the organization the request acts in and checks that the caller's
// role there allows the route's action (the rules are the domain's:
// src/domain/permissions.hpp).
#pragma once

#include "domain/accounts.hpp"
#include "domain/permissions.hpp"
#include "http/message.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace reel::api {

class guard {
 public:
  // `trusted_origins`: besides the server's own, the origins whose pages may
  // send cookie-authenticated requests that change state (REEL_CORS_ORIGINS).
  explicit guard(domain::accounts& accounts, std::vector<std::string> trusted_origins = {})
      : accounts_(accounts), trusted_origins_(std::move(trusted_origins)) {}

  // 401 without valid credentials (Bearer token or the reel_session cookie).
  http::handler user(http::handler h) const;

  // As user(), for what only a person does (their password, sessions and
  // invitations, logging out, making organizations): an API key gets
  // error(forbidden) "API keys cannot …".
  http::handler person(http::handler h) const;

  // As user(), but a request without valid credentials runs too, with no
  // principal (playback of public videos and signed links): a stale cookie
  // must not stop a public video from playing.
  http::handler viewer(http::handler h) const;

  // As user(), then the organization: the route's `:orgId`, else the
  // X-Organization-Id header, else the caller's oldest membership. 403 when
  // the caller is not a member of it, or their role there does not allow
  // `a`. Sets ctx.org.
  http::handler org(domain::action a, http::handler h) const;

  // Authenticates ctx (sets ctx.principal) or throws error(unauthorized).
  // A request authenticated by the cookie that changes state (not GET, HEAD
  // or OPTIONS) must come from this site: error(forbidden) otherwise (CSRF).
  boost::asio::awaitable<void> authenticate(http::context& ctx) const;

 private:
  domain::accounts& accounts_;
  std::vector<std::string> trusted_origins_;
};

// The token a request carries: the Bearer token, else the session cookie.
std::optional<std::string> request_token(const http::context& ctx);

// The X-Organization-Id header ("" when absent): a resource found by its own
// id must belong to it when it is sent.
inline std::string_view named_org(const http::context& ctx) { return ctx.header("X-Organization-Id"); }

}  // namespace reel::api
