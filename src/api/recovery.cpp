#include "api/recovery.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "http/client_address.hpp"

namespace reel::api {

namespace {

// POST /api/auth/forgot {email}: 202 with the same body whether or not an
// account has the email; the link is mailed in the background.
asio::awaitable<response> forgot(recovery_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string email = require_email(body);
  std::string address = http::client_address(ctx, api.trusted_proxies);
  co_await api.recovery.request_reset(email, address);
  co_return no_store(http::json_response(
      status::accepted,
      json::object{{"message", "If an account has this email, a link to reset its password is on its way."}}));
}

// POST /api/auth/reset {token, newPassword}: every session of the user ends.
asio::awaitable<response> reset(recovery_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string token = require_text(body, "token", {.min_chars = 1, .max_chars = 256, .trim = true});
  std::string password = require_password(body, "newPassword");
  co_await api.recovery.redeem(token, password);
  co_return no_store(http::empty_response(status::no_content));
}

}  // namespace

void add_recovery_routes(http::router& r, recovery_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::post, "/api/auth/forgot", h(forgot));
  r.add(verb::post, "/api/auth/reset", h(reset));
}

}  // namespace reel::api
