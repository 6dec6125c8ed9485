#include "api/accounts.hpp"

#include "api/input.hpp"
#include "core/ids.hpp"
#include "http/client_address.hpp"
#include "model/json.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::context;
using http::response;
using http::status;

namespace {

std::string session_cookie(const std::string& token, std::chrono::seconds max_age, bool secure) {
  return "reel_session=" + token + "; Path=/; Max-Age=" + std::to_string(max_age.count()) + "; HttpOnly; SameSite=Lax" +
         (secure ? "; Secure" : "");
}

std::string cleared_cookie(bool secure) {
  return std::string("reel_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax") + (secure ? "; Secure" : "");
}

// The body's "role": one of owner, admin, member, viewer, else error(bad_request).
model::role role_field(const json::object& body) {
  std::string text = require_text(body, "role", {.min_chars = 1, .max_chars = 16});
  auto role = model::parse_role(text);
  if (!role) throw error(errc::bad_request, "The field \"role\" must be one of owner, admin, member, viewer.");
  return *role;
}

json::array organizations_json(const std::vector<model::membership>& ms) {
  json::array out;
  for (const auto& m : ms) out.push_back(model::organization_json(m));
  return out;
}

response no_store(response res) {
  res.set(http::field::cache_control, "no-store");
  return res;
}

}  // namespace

void add_account_routes(http::router& r, auth::service& accounts, const guard& g, accounts_options options) {
  auth::service* svc = &accounts;
  bool secure = options.secure_cookies;
  auto proxies = std::make_shared<const std::vector<ip_network>>(std::move(options.trusted_proxies));

  r.add(http::verb::post, "/api/auth/register", [svc, secure](context& ctx) -> asio::awaitable<response> {
    const auto& body = require_object(ctx.json_body());
    std::string email = require_email(body);
    std::string password = require_password(body);
    std::string name = require_text(body, "name");
    std::string org_name = require_text(body, "organizationName");
    auto reg = co_await svc->register_account(email, password, name, org_name);
    json::object out{{"user", model::user_json(reg.user)},
                     {"organization", model::organization_json(reg.org, model::role::owner)},
                     {"token", reg.token}};
    auto res = no_store(http::json_response(status::created, out));
    res.set(http::field::set_cookie, session_cookie(reg.token, svc->session_ttl(), secure));
    co_return res;
  });

  r.add(http::verb::post, "/api/auth/login", [svc, secure, proxies](context& ctx) -> asio::awaitable<response> {
    const auto& body = require_object(ctx.json_body());
    std::string email = require_email(body);
    // Any non-empty string is checked against the store: a short password
    // is simply wrong here, not a validation error that reveals the rule.
    std::string password = require_text(body, "password", {.min_chars = 1, .max_chars = 1024, .trim = false});
    std::string address = http::client_address(ctx, *proxies);
    auto result = co_await svc->login(email, password, address);
    json::object out{{"user", model::user_json(result.user)},
                     {"organizations", organizations_json(result.memberships)},
                     {"token", result.token}};
    auto res = no_store(http::json_response(status::ok, out));
    res.set(http::field::set_cookie, session_cookie(result.token, svc->session_ttl(), secure));
    co_return res;
  });

  r.add(http::verb::post, "/api/auth/logout", g.user([svc, secure](context& ctx) -> asio::awaitable<response> {
    co_await svc->logout(*ctx.principal);
    auto res = http::empty_response(status::no_content);
    res.set(http::field::set_cookie, cleared_cookie(secure));
    co_return res;
  }));

  r.add(http::verb::get, "/api/auth/me", g.user([](context& ctx) -> asio::awaitable<response> {
    const auto& p = *ctx.principal;
    co_return no_store(http::json_response(
        status::ok,
        json::object{{"user", model::user_json(p.user)}, {"organizations", organizations_json(p.memberships)}}));
  }));

  r.add(http::verb::get, "/api/orgs", g.user([](context& ctx) -> asio::awaitable<response> {
    co_return no_store(http::json_response(
        status::ok, json::object{{"organizations", organizations_json(ctx.principal->memberships)}}));
  }));

  r.add(http::verb::post, "/api/orgs", g.user([svc](context& ctx) -> asio::awaitable<response> {
    const auto& body = require_object(ctx.json_body());
    std::string now = to_iso8601(svc->time().now());
    model::organization org{ids::random_id(12), require_text(body, "name"), now};
    const std::string& user_id = ctx.principal->user.id;
    co_await svc->database().write([&](db::transaction& s) {
      db::insert_organization(s, org);
      db::insert_membership(s, org.id, user_id, model::role::owner, now);
    });
    svc->memberships_changed();
    co_return http::json_response(status::created,
                                  json::object{{"organization", model::organization_json(org, model::role::owner)}});
  }));

  r.add(http::verb::get, "/api/orgs/:orgId/members",
        g.org(model::role::viewer, [svc](context& ctx) -> asio::awaitable<response> {
          const std::string& org_id = ctx.org->id;
          auto members = co_await svc->database().read([&](db::transaction& s) { return db::list_members(s, org_id); });
          json::array out;
          for (const auto& m : members) out.push_back(model::member_json(m));
          co_return no_store(http::json_response(status::ok, json::object{{"members", std::move(out)}}));
        }));

  r.add(http::verb::post, "/api/orgs/:orgId/members",
        g.org(model::role::admin, [svc](context& ctx) -> asio::awaitable<response> {
          const auto& body = require_object(ctx.json_body());
          std::string email = require_email(body);
          auto role = role_field(body);
          if (role == model::role::owner && ctx.org->role != model::role::owner)
            throw error(errc::forbidden, "Only an owner can add another owner.");
          const std::string& org_id = ctx.org->id;
          std::string now = to_iso8601(svc->time().now());
          std::optional<model::member> added;
          try {
            added = co_await svc->database().write([&](db::transaction& s) -> std::optional<model::member> {
              auto u = db::find_user_by_email(s, email);
              if (!u) return std::nullopt;
              db::insert_membership(s, org_id, u->id, role, now);
              return db::find_member(s, org_id, u->id);
            });
          } catch (const db::db_error& e) {
            if (e.code() != errc::conflict) throw;
            throw error(errc::conflict, "That user is a member of this organization already.");
          }
          if (!added) throw error(errc::not_found, "No user has that email; they must register first.");
          svc->memberships_changed();
          co_return http::json_response(status::created, json::object{{"member", model::member_json(*added)}});
        }));

  // A member's role: admin+; only an owner makes or unmakes an owner; the
  // last owner stays an owner.
  r.add(http::verb::patch, "/api/orgs/:orgId/members/:userId",
        g.org(model::role::admin, [svc](context& ctx) -> asio::awaitable<response> {
          const auto& body = require_object(ctx.json_body());
          auto role = role_field(body);
          const std::string& org_id = ctx.org->id;
          const std::string& target = ctx.params.at("userId");
          bool caller_is_owner = ctx.org->role == model::role::owner;
          enum class outcome { changed, not_found, owner_needed, last_owner };
          std::optional<model::member> changed;
          auto result = co_await svc->database().write([&](db::transaction& s) {
            auto m = db::find_member(s, org_id, target);
            if (!m) return outcome::not_found;
            if ((m->role == model::role::owner || role == model::role::owner) && !caller_is_owner)
              return outcome::owner_needed;
            if (m->role == model::role::owner && role != model::role::owner && db::count_owners(s, org_id) <= 1)
              return outcome::last_owner;
            db::set_membership_role(s, org_id, target, role);
            changed = db::find_member(s, org_id, target);
            return outcome::changed;
          });
          switch (result) {
            case outcome::not_found:
              throw error(errc::not_found, "That user is not a member of this organization.");
            case outcome::owner_needed:
              throw error(errc::forbidden, "Only an owner can make or unmake an owner.");
            case outcome::last_owner:
              throw error(errc::conflict, "The last owner must stay an owner; make someone else an owner first.");
            case outcome::changed:
              break;
          }
          svc->membership_changed(org_id, target, role);
          co_return http::json_response(status::ok, json::object{{"member", model::member_json(*changed)}});
        }));

  r.add(http::verb::delete_, "/api/orgs/:orgId/members/:userId",
        g.org(model::role::viewer, [svc](context& ctx) -> asio::awaitable<response> {
          const std::string& org_id = ctx.org->id;
          const std::string& target = ctx.params.at("userId");
          bool self = target == ctx.principal->user.id;
          if (!self) require_role(ctx, model::role::admin);
          model::role caller = ctx.org->role;
          enum class outcome { removed, not_found, last_owner, owner_needed };
          auto result = co_await svc->database().write([&](db::transaction& s) {
            auto m = db::find_member(s, org_id, target);
            if (!m) return outcome::not_found;
            if (m->role == model::role::owner) {
              if (!self && caller != model::role::owner) return outcome::owner_needed;
              if (db::count_owners(s, org_id) <= 1) return outcome::last_owner;
            }
            db::delete_membership(s, org_id, target);
            return outcome::removed;
          });
          switch (result) {
            case outcome::not_found:
              throw error(errc::not_found, "That user is not a member of this organization.");
            case outcome::owner_needed:
              throw error(errc::forbidden, "Only an owner can remove an owner.");
            case outcome::last_owner:
              throw error(errc::conflict, "The last owner cannot be removed; add another owner first.");
            case outcome::removed:
              break;
          }
          svc->membership_changed(org_id, target, std::nullopt);  // their open sockets are cut at once
          co_return http::empty_response(status::no_content);
        }));
}

}  // namespace reel::api
