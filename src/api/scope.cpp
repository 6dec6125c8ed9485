#include "api/scope.hpp"

#include <strings.h>

namespace reel::api {

namespace asio = boost::asio;

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

asio::awaitable<void> guard::authenticate(http::context& ctx) const {
  if (ctx.principal) co_return;
  auto token = request_token(ctx);
  if (!token) throw error(errc::unauthorized, "Sign in first: no session token or cookie was sent.");
  ctx.principal = co_await accounts_.authenticate(*token);
  if (!ctx.principal) throw error(errc::unauthorized, "The session is invalid or has expired; sign in again.");
}

http::handler guard::user(http::handler h) const {
  return [this, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    co_await authenticate(ctx);
    co_return co_await h(ctx);
  };
}

const model::membership* resource_membership(const http::context& ctx, const std::string& org_id) {
  std::string_view named_org = ctx.header("X-Organization-Id");
  if (!named_org.empty() && named_org != org_id) return nullptr;
  return ctx.principal->membership_in(org_id);
}

void require_role(const http::context& ctx, model::role min) {
  if (!ctx.org || !model::at_least(ctx.org->role, min))
    throw error(errc::forbidden, "Your role in this organization does not allow this; it needs " +
                                     std::string(model::role_name(min)) + " or higher.");
}

http::handler guard::org(model::role min, http::handler h) const {
  return [this, min, h = std::move(h)](http::context& ctx) -> asio::awaitable<http::response> {
    co_await authenticate(ctx);
    const model::principal& p = *ctx.principal;
    const model::membership* m = nullptr;
    if (const auto* named = ctx.params.find("orgId")) {
      m = p.membership_in(*named);
    } else if (auto header = ctx.header("X-Organization-Id"); !header.empty()) {
      m = p.membership_in(std::string(header));
    } else if (!p.memberships.empty()) {
      m = &p.memberships.front();
    } else {
      throw error(errc::forbidden, "You are not a member of any organization.");
    }
    if (!m) throw error(errc::forbidden, "You are not a member of this organization.");
    ctx.org = http::context::org_scope{m->org.id, m->org.name, m->role};
    require_role(ctx, min);
    co_return co_await h(ctx);
  };
}

}  // namespace reel::api
