#include "api/api_keys.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

using domain::action;

namespace {

json::value nullable_text(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }

// {id, name, role, prefix, createdBy: {id, name} | null, createdAt, lastUsedAt | null}
json::object api_key_json(const model::api_key& k) {
  json::value by = nullptr;
  if (k.created_by) by = json::object{{"id", *k.created_by}, {"name", k.creator_name.value_or("")}};
  return {{"id", k.id},
          {"name", k.name},
          {"role", model::role_name(k.role)},
          {"prefix", k.prefix},
          {"createdBy", std::move(by)},
          {"createdAt", k.created_at},
          {"lastUsedAt", nullable_text(k.last_used_at)}};
}

// POST /api/orgs/:orgId/api-keys {name, role} → 201 {apiKey, secret}: the only time the secret is shown.
asio::awaitable<response> create_api_key(domain::api_keys& keys, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string name = require_text(body, "name");
  auto role = require_role(body);
  auto made = co_await keys.create(*ctx.principal, *ctx.org, std::move(name), role);
  json::object out{{"apiKey", api_key_json(made.key)}, {"secret", made.secret}};
  co_return no_store(http::json_response(status::created, out));
}

// GET /api/orgs/:orgId/api-keys: oldest first.
asio::awaitable<response> list_api_keys(domain::api_keys& keys, context& ctx) {
  auto all = co_await keys.list(*ctx.org);
  json::array out;
  for (const auto& k : all) out.push_back(api_key_json(k));
  co_return no_store(http::json_response(status::ok, json::object{{"apiKeys", std::move(out)}}));
}

// DELETE /api/orgs/:orgId/api-keys/:keyId
asio::awaitable<response> revoke_api_key(domain::api_keys& keys, context& ctx) {
  co_await keys.revoke(*ctx.org, ctx.params.at("keyId"));
  co_return http::empty_response(status::no_content);
}

}  // namespace

void add_api_key_routes(http::router& r, const guard& g, domain::api_keys& keys) {
  auto h = [&keys](auto fn) { return http::bind_handler(keys, fn); };
  using http::verb;
  r.add(verb::post, "/api/orgs/:orgId/api-keys", g.org(action::manage_api_keys, h(create_api_key)));
  r.add(verb::get, "/api/orgs/:orgId/api-keys", g.org(action::manage_api_keys, h(list_api_keys)));
  r.add(verb::delete_, "/api/orgs/:orgId/api-keys/:keyId", g.org(action::manage_api_keys, h(revoke_api_key)));
}

}  // namespace reel::api
