#include "api/webhooks.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "core/errors.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

namespace reel::api {

using domain::action;

namespace {

json::value nullable(const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); }
json::value nullable(const std::optional<std::int64_t>& n) { return n ? json::value(*n) : json::value(nullptr); }

// {id, url, events, enabled, secret, disabledReason, disabledAt, failingSince, createdAt, updatedAt}
json::object endpoint_json(const model::webhook_endpoint& e) {
  json::array events;
  for (const auto& t : e.events) events.emplace_back(t);
  return {{"id", e.id},
          {"url", e.url},
          {"events", std::move(events)},
          {"enabled", e.enabled},
          {"secret", e.secret},
          {"disabledReason", nullable(e.disabled_reason)},
          {"disabledAt", nullable(e.disabled_at)},
          {"failingSince", nullable(e.failing_since)},
          {"createdAt", e.created_at},
          {"updatedAt", e.updated_at}};
}

// {id, messageId, eventType, status, attempts, nextAttemptAt, lastAttemptAt,
//  responseCode, latencyMs, responseBody, error, payload, createdAt, updatedAt}
json::object delivery_json(const model::webhook_delivery& d) {
  boost::system::error_code ec;
  json::value payload = json::parse(d.payload, ec);
  if (ec) payload = d.payload;
  bool pending = d.status == model::delivery_status::pending;
  return {{"id", d.id},
          {"messageId", d.message_id},
          {"eventType", d.event_type},
          {"status", model::delivery_status_name(d.status)},
          {"attempts", d.attempts},
          {"nextAttemptAt", pending ? json::value(d.next_attempt_at) : json::value(nullptr)},
          {"lastAttemptAt", nullable(d.last_attempt_at)},
          {"responseCode", nullable(d.response_code)},
          {"latencyMs", nullable(d.latency_ms)},
          {"responseBody", nullable(d.response_body)},
          {"error", nullable(d.error)},
          {"payload", std::move(payload)},
          {"createdAt", d.created_at},
          {"updatedAt", d.updated_at}};
}

std::string url_field(const json::object& body) {
  const auto* v = body.if_contains("url");
  if (!v || !v->is_string())
    throw error(errc::bad_request, "The field \"url\" must be a string (an http or https URL).");
  return std::string(v->as_string());
}

std::vector<std::string> events_field(const json::object& body) {
  const auto* v = body.if_contains("events");
  if (!v || !v->is_array()) throw error(errc::bad_request, "The field \"events\" must be an array of event types.");
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) throw error(errc::bad_request, "The field \"events\" must hold strings only.");
    out.emplace_back(e.as_string());
  }
  return out;
}

std::optional<bool> bool_field(const json::object& body, const char* name) {
  const auto* v = body.if_contains(name);
  if (!v) return std::nullopt;
  if (!v->is_bool()) throw error(errc::bad_request, std::string("The field \"") + name + "\" must be true or false.");
  return v->as_bool();
}

response webhook_response(status s, const model::webhook_endpoint& e) {
  return no_store(http::json_response(s, json::object{{"webhook", endpoint_json(e)}}));
}

// POST /api/orgs/:orgId/webhooks {url, events, enabled?} → 201 {webhook}
asio::awaitable<response> create(domain::webhooks& hooks, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  auto url = url_field(body);
  auto events = events_field(body);
  bool enabled = bool_field(body, "enabled").value_or(true);
  auto e = co_await hooks.create(*ctx.org, url, std::move(events), enabled);
  co_return webhook_response(status::created, e);
}

// GET /api/orgs/:orgId/webhooks → {webhooks}
asio::awaitable<response> list(domain::webhooks& hooks, context& ctx) {
  auto all = co_await hooks.list(*ctx.org);
  json::array out;
  for (const auto& e : all) out.push_back(endpoint_json(e));
  co_return no_store(http::json_response(status::ok, json::object{{"webhooks", std::move(out)}}));
}

// GET /api/orgs/:orgId/webhooks/:webhookId → {webhook}
asio::awaitable<response> show(domain::webhooks& hooks, context& ctx) {
  auto e = co_await hooks.get(*ctx.org, ctx.params.at("webhookId"));
  co_return webhook_response(status::ok, e);
}

// PATCH /api/orgs/:orgId/webhooks/:webhookId {url?, events?, enabled?, rotateSecret?} → {webhook}
asio::awaitable<response> update(domain::webhooks& hooks, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  domain::webhook_changes c;
  if (body.contains("url")) c.url = url_field(body);
  if (body.contains("events")) c.events = events_field(body);
  c.enabled = bool_field(body, "enabled");
  c.rotate_secret = bool_field(body, "rotateSecret").value_or(false);
  if (!c.url && !c.events && !c.enabled && !c.rotate_secret)
    throw error(errc::bad_request, "Send \"url\", \"events\", \"enabled\" or \"rotateSecret\": true to change.");
  auto e = co_await hooks.update(*ctx.org, ctx.params.at("webhookId"), c);
  co_return webhook_response(status::ok, e);
}

// DELETE /api/orgs/:orgId/webhooks/:webhookId → 204
asio::awaitable<response> remove(domain::webhooks& hooks, context& ctx) {
  co_await hooks.remove(*ctx.org, ctx.params.at("webhookId"));
  co_return http::empty_response(status::no_content);
}

// GET /api/orgs/:orgId/webhooks/:webhookId/deliveries?limit= → {deliveries}, newest first
asio::awaitable<response> deliveries(domain::webhooks& hooks, context& ctx) {
  int limit = query_int(ctx, "limit", 1, 100).value_or(50);
  auto all = co_await hooks.deliveries(*ctx.org, ctx.params.at("webhookId"), limit);
  json::array out;
  for (const auto& d : all) out.push_back(delivery_json(d));
  co_return no_store(http::json_response(status::ok, json::object{{"deliveries", std::move(out)}}));
}

// POST /api/orgs/:orgId/webhooks/:webhookId/deliveries/:deliveryId/redeliver → 202 {delivery}
asio::awaitable<response> redeliver(domain::webhooks& hooks, context& ctx) {
  auto d = co_await hooks.redeliver(*ctx.org, ctx.params.at("webhookId"), ctx.params.at("deliveryId"));
  co_return no_store(http::json_response(status::accepted, json::object{{"delivery", delivery_json(d)}}));
}

// POST /api/orgs/:orgId/webhooks/:webhookId/test → 202 {delivery}
asio::awaitable<response> send_test(domain::webhooks& hooks, context& ctx) {
  auto d = co_await hooks.send_test(*ctx.org, ctx.params.at("webhookId"));
  co_return no_store(http::json_response(status::accepted, json::object{{"delivery", delivery_json(d)}}));
}

}  // namespace

void add_webhook_routes(http::router& r, const guard& g, domain::webhooks& hooks) {
  auto h = [&hooks](auto fn) { return http::bind_handler(hooks, fn); };
  using http::verb;
  constexpr auto a = action::manage_webhooks;
  r.add(verb::post, "/api/orgs/:orgId/webhooks", g.org(a, h(create)));
  r.add(verb::get, "/api/orgs/:orgId/webhooks", g.org(a, h(list)));
  r.add(verb::get, "/api/orgs/:orgId/webhooks/:webhookId", g.org(a, h(show)));
  r.add(verb::patch, "/api/orgs/:orgId/webhooks/:webhookId", g.org(a, h(update)));
  r.add(verb::delete_, "/api/orgs/:orgId/webhooks/:webhookId", g.org(a, h(remove)));
  r.add(verb::get, "/api/orgs/:orgId/webhooks/:webhookId/deliveries", g.org(a, h(deliveries)));
  r.add(verb::post, "/api/orgs/:orgId/webhooks/:webhookId/deliveries/:deliveryId/redeliver", g.org(a, h(redeliver)));
  r.add(verb::post, "/api/orgs/:orgId/webhooks/:webhookId/test", g.org(a, h(send_test)));
}

}  // namespace reel::api
