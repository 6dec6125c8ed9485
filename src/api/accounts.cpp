#include "api/accounts.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "http/client_address.hpp"
#include "model/json.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

namespace {

std::string session_cookie(const std::string& token, std::chrono::seconds max_age, bool secure) {
  return "reel_session=" + token + "; Path=/; Max-Age=" + std::to_string(max_age.count()) + "; HttpOnly; SameSite=Lax" +
         (secure ? "; Secure" : "");
}

std::string cleared_cookie(bool secure) {
  return std::string("reel_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax") + (secure ? "; Secure" : "");
}

json::array organizations_json(const std::vector<model::membership>& ms) {
  json::array out;
  for (const auto& m : ms) out.push_back(model::organization_json(m));
  return out;
}

// An answer that starts a session: the token in the body and in the cookie.
response signed_in(account_api& api, status s, const json::object& body, const std::string& token) {
  auto res = no_store(http::json_response(s, body));
  res.set(http::field::set_cookie, session_cookie(token, api.accounts.session_ttl(), api.secure_cookies));
  return res;
}

// Where the request comes from, to show in the list of sessions.
domain::session_origin origin_of(const account_api& api, const context& ctx) {
  return {http::client_address(ctx, api.trusted_proxies), clean_user_agent(ctx.header(http::field::user_agent))};
}

json::value text_or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::object session_json(const domain::session_view& v) {
  return {{"id", v.id},
          {"createdAt", to_iso8601(v.created_at)},
          {"lastUsedAt", to_iso8601(v.last_used_at)},
          {"expiresAt", to_iso8601(v.expires_at)},
          {"address", text_or_null(v.address)},
          {"userAgent", text_or_null(v.user_agent)},
          {"current", v.current}};
}

// POST /api/auth/register {email, password, name, organizationName}
asio::awaitable<response> register_account(account_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string email = require_email(body);
  std::string password = require_password(body);
  std::string name = require_text(body, "name");
  std::string org_name = require_text(body, "organizationName");
  auto origin = origin_of(api, ctx);
  auto reg = co_await api.accounts.register_account(email, password, name, org_name, origin);
  json::object out{{"user", model::user_json(reg.user)},
                   {"organization", model::organization_json(reg.org, model::role::owner)},
                   {"token", reg.token}};
  co_return signed_in(api, status::created, out, reg.token);
}

// POST /api/auth/login {email, password}
asio::awaitable<response> login(account_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string email = require_email(body);
  // Any non-empty string is checked against the database: a short password
  // is simply wrong here, not a validation error that reveals the rule.
  std::string password = require_text(body, "password", {.min_chars = 1, .max_chars = 1024, .trim = false});
  auto origin = origin_of(api, ctx);
  auto result = co_await api.accounts.login(email, password, origin);
  json::object out{{"user", model::user_json(result.user)},
                   {"organizations", organizations_json(result.memberships)},
                   {"token", result.token}};
  co_return signed_in(api, status::ok, out, result.token);
}

// 204 that also clears the session cookie: this browser's session ended.
response signed_out(const account_api& api) {
  auto res = http::empty_response(status::no_content);
  res.set(http::field::set_cookie, cleared_cookie(api.secure_cookies));
  return res;
}

// POST /api/auth/logout
asio::awaitable<response> logout(account_api& api, context& ctx) {
  co_await api.accounts.logout(*ctx.principal);
  co_return signed_out(api);
}

// POST /api/auth/password {currentPassword, newPassword}: every other
// session of the user ends; this one goes on.
asio::awaitable<response> change_password(account_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string current = require_text(body, "currentPassword", {.min_chars = 1, .max_chars = 1024, .trim = false});
  std::string next = require_password(body, "newPassword");
  std::string address = http::client_address(ctx, api.trusted_proxies);
  co_await api.accounts.change_password(*ctx.principal, current, next, address);
  co_return no_store(http::empty_response(status::no_content));
}

// POST /api/auth/logout-all: every session of the user ends, this one too.
asio::awaitable<response> logout_all(account_api& api, context& ctx) {
  co_await api.accounts.logout_all(*ctx.principal);
  co_return signed_out(api);
}

// GET /api/auth/sessions: the caller's live sessions, most recently used first.
asio::awaitable<response> list_sessions(account_api& api, context& ctx) {
  auto sessions = co_await api.accounts.sessions(*ctx.principal);
  json::array out;
  for (const auto& v : sessions) out.push_back(session_json(v));
  co_return no_store(http::json_response(status::ok, json::object{{"sessions", std::move(out)}}));
}

// DELETE /api/auth/sessions/:id: ends one of the caller's sessions; ending
// the current one also clears the cookie, as logout does.
asio::awaitable<response> delete_session(account_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  co_await api.accounts.revoke_session(*ctx.principal, id);
  if (id == ctx.principal->session_id) co_return signed_out(api);
  co_return http::empty_response(status::no_content);
}

// GET /api/auth/me
// (The organizations as the database has them now: their storage usage changes.)
asio::awaitable<response> me(account_api& api, context& ctx) {
  const auto& p = *ctx.principal;
  auto memberships = co_await api.accounts.memberships(p);
  json::object out{{"user", model::user_json(p.user)}, {"organizations", organizations_json(memberships)}};
  if (p.api_key) {  // no person: the key itself (docs/api-keys.md)
    out["user"] = nullptr;
    out["apiKey"] = {{"id", p.api_key->id},
                     {"name", p.api_key->name},
                     {"prefix", p.api_key->prefix},
                     {"role", model::role_name(p.memberships.front().role)}};
  }
  co_return no_store(http::json_response(status::ok, out));
}

}  // namespace

void add_account_routes(http::router& r, const guard& g, account_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::post, "/api/auth/register", h(register_account));
  r.add(verb::post, "/api/auth/login", h(login));
  r.add(verb::post, "/api/auth/logout", g.person(h(logout)));
  r.add(verb::post, "/api/auth/logout-all", g.person(h(logout_all)));
  r.add(verb::post, "/api/auth/password", g.person(h(change_password)));
  r.add(verb::get, "/api/auth/sessions", g.person(h(list_sessions)));
  r.add(verb::delete_, "/api/auth/sessions/:id", g.person(h(delete_session)));
  r.add(verb::get, "/api/auth/me", g.user(h(me)));
}

}  // namespace reel::api
