#include "api/accounts.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "model/json.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace reel::api {

using domain::action;

namespace {

// GET /api/orgs: the caller's organizations, oldest membership first.
asio::awaitable<response> list_organizations(domain::organizations& orgs, context& ctx) {
  auto memberships = co_await orgs.of(*ctx.principal);
  json::array out;
  for (const auto& m : memberships) out.push_back(model::organization_json(m));
  co_return no_store(http::json_response(status::ok, json::object{{"organizations", std::move(out)}}));
}

// POST /api/orgs {name}
asio::awaitable<response> create_organization(domain::organizations& orgs, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string name = require_text(body, "name");
  auto org = co_await orgs.create(*ctx.principal, name);
  co_return http::json_response(status::created,
                                json::object{{"organization", model::organization_json(org, model::role::owner)}});
}

// The "embedOrigins" field: a list of up to 50 origins (http(s)://host[:port]).
std::vector<std::string> embed_origins_field(const json::value& v) {
  auto bad = [] {
    return error(errc::bad_request,
                 "The field \"embedOrigins\" must be a list of at most 50 origins like https://example.com (no "
                 "path); an empty list lets any site embed.");
  };
  if (!v.is_array() || v.as_array().size() > 50) throw bad();
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) throw bad();
    std::string o(item.as_string());
    while (o.ends_with('/')) o.pop_back();
    if (!domain::valid_origin(o)) throw bad();
    if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(std::move(o));
  }
  return out;
}

// The fields "downloadRenditions" ("none", "highest", "all") and "downloadSource" (true/false).
void download_settings_fields(const json::object& body, domain::organizations::settings_change& c) {
  if (const auto* r = body.if_contains("downloadRenditions")) {
    if (!r->is_string())
      throw error(errc::bad_request, "The field \"downloadRenditions\" must be \"none\", \"highest\" or \"all\".");
    c.download_renditions = std::string(r->as_string());
  }
  if (const auto* s = body.if_contains("downloadSource")) {
    if (!s->is_bool()) throw error(errc::bad_request, "The field \"downloadSource\" must be true or false.");
    c.download_source = s->as_bool();
  }
}

// PATCH /api/orgs/:orgId {name?, slug?, embedOrigins?, downloadRenditions?, downloadSource?}
asio::awaitable<response> update_organization(domain::organizations& orgs, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  if (body.contains("storageQuotaBytes") || body.contains("storageUsedBytes"))
    throw error(errc::forbidden,
                "The storage quota is set by the server's operator (reel org set-quota), not through the API.");
  domain::organizations::settings_change c;
  if (body.contains("name")) c.name = require_text(body, "name");
  c.slug = optional_text(body, "slug", {.min_chars = 1, .max_chars = 100});
  if (const auto* e = body.if_contains("embedOrigins")) c.embed_origins = embed_origins_field(*e);
  download_settings_fields(body, c);
  if (!c.name && !c.slug && !c.embed_origins && !c.download_renditions && !c.download_source)
    throw error(errc::bad_request,
                "Send \"name\", \"slug\", \"embedOrigins\", \"downloadRenditions\" or \"downloadSource\" to "
                "change.");
  auto org = co_await orgs.update(*ctx.org, c);
  co_return no_store(
      http::json_response(status::ok, json::object{{"organization", model::organization_json(org, ctx.org->role)}}));
}

// GET /api/orgs/:orgId/members
asio::awaitable<response> list_members(domain::organizations& orgs, context& ctx) {
  auto members = co_await orgs.members(*ctx.org);
  json::array out;
  for (const auto& m : members) out.push_back(model::member_json(m));
  co_return no_store(http::json_response(status::ok, json::object{{"members", std::move(out)}}));
}

// PATCH /api/orgs/:orgId/members/:userId {role}
asio::awaitable<response> change_member_role(domain::organizations& orgs, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  auto role = require_role(body);
  auto changed = co_await orgs.change_role(*ctx.org, ctx.params.at("userId"), role);
  co_return http::json_response(status::ok, json::object{{"member", model::member_json(changed)}});
}

// DELETE /api/orgs/:orgId/members/:userId (leaving is removing yourself)
asio::awaitable<response> remove_member(domain::organizations& orgs, context& ctx) {
  co_await orgs.remove_member(*ctx.principal, *ctx.org, ctx.params.at("userId"));
  co_return http::empty_response(status::no_content);
}

}  // namespace

void add_organization_routes(http::router& r, const guard& g, domain::organizations& orgs) {
  auto h = [&orgs](auto fn) { return http::bind_handler(orgs, fn); };
  using http::verb;
  r.add(verb::get, "/api/orgs", g.user(h(list_organizations)));
  r.add(verb::post, "/api/orgs", g.person(h(create_organization)));
  r.add(verb::patch, "/api/orgs/:orgId", g.org(action::manage_members, h(update_organization)));
  r.add(verb::get, "/api/orgs/:orgId/members", g.org(action::view_members, h(list_members)));
  // POST /api/orgs/:orgId/members invites (src/api/invitations.cpp).
  r.add(verb::patch, "/api/orgs/:orgId/members/:userId", g.org(action::manage_members, h(change_member_role)));
  // Leaving is every member's right; removing someone else is checked by the domain.
  r.add(verb::delete_, "/api/orgs/:orgId/members/:userId", g.org(action::view_members, h(remove_member)));
}

}  // namespace reel::api
