#include "domain/webhooks.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/webhooks.hpp"
#include "domain/permissions.hpp"
#include "webhooks/signature.hpp"
#include "webhooks/targets.hpp"

#include <algorithm>
#include <stdexcept>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

[[noreturn]] void no_such_webhook() { throw error(errc::not_found, "No such webhook in this organization."); }

}  // namespace

std::vector<std::string> webhooks::checked_events(std::vector<std::string> events) {
  if (events.empty()) throw error(errc::bad_request, "events must name at least one event type.");
  const auto& known = model::webhook_event_types();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (std::find(known.begin(), known.end(), events[i]) == known.end())
      throw error(errc::bad_request, "events: \"" + events[i].substr(0, 64) + "\" is not an event type.");
    if (std::find(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(i), events[i]) !=
        events.begin() + static_cast<std::ptrdiff_t>(i))
      throw error(errc::bad_request, "events: \"" + events[i] + "\" is listed twice.");
  }
  return events;
}

std::string webhooks::checked_url(const std::string& url) {
  try {
    reel::webhooks::parse_target_url(url);
  } catch (const std::invalid_argument& e) {
    throw error(errc::bad_request, std::string("url: ") + e.what());
  }
  return url;
}

asio::awaitable<model::webhook_endpoint> webhooks::create(const model::org_scope& in, const std::string& url,
                                                          std::vector<std::string> events, bool enabled) {
  require(in, action::manage_webhooks);
  model::webhook_endpoint e;
  e.id = "whk_" + ids::random_id(12);
  e.organization_id = in.id;
  e.url = checked_url(url);
  e.events = checked_events(std::move(events));
  e.enabled = enabled;
  e.secret = reel::webhooks::new_secret();
  e.created_at = e.updated_at = to_iso8601(clock_.now());
  if (!enabled) e.disabled_at = e.created_at;
  co_await db_.write([&](db::transaction& tx) { db::insert_webhook_endpoint(tx, e); });
  co_return e;
}

asio::awaitable<std::vector<model::webhook_endpoint>> webhooks::list(const model::org_scope& in) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  co_return co_await db_.read([&](db::transaction& tx) { return db::list_webhook_endpoints(tx, org); });
}

asio::awaitable<model::webhook_endpoint> webhooks::get(const model::org_scope& in, const std::string& id) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  auto found = co_await db_.read([&](db::transaction& tx) { return db::find_webhook_endpoint(tx, org, id); });
  if (!found) no_such_webhook();
  co_return std::move(*found);
}

asio::awaitable<model::webhook_endpoint> webhooks::update(const model::org_scope& in, const std::string& id,
                                                          const webhook_changes& changes) {
  require(in, action::manage_webhooks);
  std::optional<std::string> url;
  if (changes.url) url = checked_url(*changes.url);
  std::optional<std::vector<std::string>> events;
  if (changes.events) events = checked_events(*changes.events);
  std::string secret = changes.rotate_secret ? reel::webhooks::new_secret() : "";
  std::string now = to_iso8601(clock_.now());
  const std::string& org = in.id;
  auto change = [&](db::transaction& tx) -> std::optional<model::webhook_endpoint> {
    auto e = db::find_webhook_endpoint(tx, org, id);
    if (!e) return std::nullopt;
    if (url) e->url = *url;
    if (events) e->events = *events;
    if (!secret.empty()) e->secret = secret;
    if (changes.enabled && *changes.enabled != e->enabled) {
      e->enabled = *changes.enabled;
      e->disabled_reason.reset();
      e->failing_since.reset();
      e->disabled_at = e->enabled ? std::nullopt : std::optional<std::string>(now);
    }
    e->updated_at = now;
    db::update_webhook_endpoint(tx, *e);
    return e;
  };
  auto updated = co_await db_.write(change);
  if (!updated) no_such_webhook();
  if (updated->enabled) queued();  // deliveries held while it was off may go now
  co_return std::move(*updated);
}

asio::awaitable<void> webhooks::remove(const model::org_scope& in, const std::string& id) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  bool gone = co_await db_.write([&](db::transaction& tx) { return db::delete_webhook_endpoint(tx, org, id); });
  if (!gone) no_such_webhook();
}

asio::awaitable<std::vector<model::webhook_delivery>> webhooks::deliveries(const model::org_scope& in,
                                                                           const std::string& id, int limit) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  auto read = [&](db::transaction& tx) -> std::optional<std::vector<model::webhook_delivery>> {
    if (!db::find_webhook_endpoint(tx, org, id)) return std::nullopt;
    return db::list_webhook_deliveries(tx, id, limit);
  };
  auto found = co_await db_.read(read);
  if (!found) no_such_webhook();
  co_return std::move(*found);
}

asio::awaitable<model::webhook_delivery> webhooks::redeliver(const model::org_scope& in, const std::string& id,
                                                             const std::string& delivery_id) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  std::string now = to_iso8601(clock_.now());
  enum class outcome { no_endpoint, no_delivery, busy, queued };
  std::optional<model::webhook_delivery> after;
  auto change = [&](db::transaction& tx) {
    if (!db::find_webhook_endpoint(tx, org, id)) return outcome::no_endpoint;
    if (!db::find_webhook_delivery(tx, id, delivery_id)) return outcome::no_delivery;
    if (!db::redeliver_webhook(tx, id, delivery_id, now)) return outcome::busy;
    after = db::find_webhook_delivery(tx, id, delivery_id);
    return outcome::queued;
  };
  auto result = co_await db_.write(change);
  if (result == outcome::no_endpoint) no_such_webhook();
  if (result == outcome::no_delivery) throw error(errc::not_found, "No such delivery of this webhook.");
  if (result == outcome::busy) throw error(errc::conflict, "This delivery is being sent right now; try again soon.");
  queued();
  co_return std::move(*after);
}

asio::awaitable<model::webhook_delivery> webhooks::send_test(const model::org_scope& in, const std::string& id) {
  require(in, action::manage_webhooks);
  const std::string& org = in.id;
  std::string now = to_iso8601(clock_.now());
  auto queue = [&](db::transaction& tx) -> std::optional<model::webhook_delivery> {
    auto e = db::find_webhook_endpoint(tx, org, id);
    if (!e) return std::nullopt;
    boost::json::object data{
        {"organizationId", org}, {"webhookId", id}, {"message", "This is a test event from reel."}};
    return db::queue_webhook_message(tx, *e, "webhook.test", data, now);
  };
  auto d = co_await db_.write(queue);
  if (!d) no_such_webhook();
  queued();
  co_return std::move(*d);
}

}  // namespace reel::domain
