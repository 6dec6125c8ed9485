#include "api/guard.hpp"

#include <strings.h>
#include "api/handler.hpp"
#include "http/same_site.hpp"

namespace reel::api {

std::optional<std::string> request_token(const http::context& ctx) {
  std::string_view authz = ctx.header(http::field::authorization);
  if (!authz.empty()) {
    constexpr std::string_view scheme = "Bearer ";
    if (authz.size() > scheme.size() && strncasecmp(authz.data(), scheme.data(), scheme.size()) == 0)
      return std::string(authz.substr(scheme.size()));
    return std::string();  // present but not a Bearer token: never fall back to the cookie
  }
  if (const auto* c = ctx.cookie("reel_session")) return *c;
  return std::nullopt;
}

namespace {

bool changes_state(const http::context& ctx) {
  auto m = ctx.req.method();
  return m != http::verb::get && m != http::verb::head && m != http::verb::options;
}

}  // namespace

asio::awaitable<void> guard::authenticate(http::context& ctx) const {
  if (ctx.principal) co_return;
  auto token = request_token(ctx);
  if (!token) throw error(errc::unauthorized, "Sign in first: no session token or cookie was sent.");
  // The browser sends the cookie whoever made the page: only this site's
  // pages may use it to change anything. A Bearer token is never sent by itself.
  if (ctx.header(http::field::authorization).empty() && changes_state(ctx))
    if (auto why = http::cross_site(ctx, trusted_origins_))
      throw error(errc::forbidden, "Cross-site request refused: " + *why + ". Send the session as a Bearer token.");
  ctx.principal = co_await accounts_.authenticate(*token);
  if (!ctx.principal) throw error(errc::unauthorized, "The session is invalid or has expired; sign in again.");
}

http::handler guard::user(http::handler h) const {
  return [this, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    co_await authenticate(ctx);
    co_return co_await h(ctx);
  };
}

http::handler guard::person(http::handler h) const {
  return [this, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    co_await authenticate(ctx);
    if (ctx.principal->api_key)
      throw error(errc::forbidden,
                  "API keys cannot do this: it is for a person signed in (their account, sessions, invitations and "
                  "organizations).");
    co_return co_await h(ctx);
  };
}

http::handler guard::viewer(http::handler h) const {
  return [this, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    if (request_token(ctx)) {
      try {
        co_await authenticate(ctx);
      } catch (const error& e) {
        if (e.code() != errc::unauthorized) throw;
        ctx.principal.reset();
      }
    }
    co_return co_await h(ctx);
  };
}

http::handler guard::org(domain::action a, http::handler h) const {
  return [this, a, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    co_await authenticate(ctx);
    std::optional<std::string_view> requested;
    if (const auto* in_path = ctx.params.find("orgId"))
      requested = *in_path;
    else if (auto header = named_org(ctx); !header.empty())
      requested = header;
    ctx.org = domain::acting_org(*ctx.principal, requested);
    domain::require(*ctx.org, a);
    co_return co_await h(ctx);
  };
}

}  // namespace reel::api
