#include "db/webhooks.hpp"

#include "core/ids.hpp"
#include "db/videos.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace reel::db {

namespace {

constexpr const char* k_endpoint_columns =
    "id, organization_id, url, events, enabled, secret, disabled_reason, disabled_at, failing_since, created_at, "
    "updated_at";
constexpr const char* k_insert_endpoint =
    "INSERT INTO webhook_endpoints (id, organization_id, url, events, enabled, secret, disabled_reason, disabled_at, "
    "failing_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* k_update_endpoint =
    "UPDATE webhook_endpoints SET url = ?, events = ?, enabled = ?, secret = ?, disabled_reason = ?, "
    "disabled_at = ?, failing_since = ?, updated_at = ? WHERE id = ? AND organization_id = ?";
constexpr const char* k_delete_endpoint = "DELETE FROM webhook_endpoints WHERE id = ? AND organization_id = ?";
constexpr const char* k_insert_message =
    "INSERT INTO webhook_messages (id, organization_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* k_insert_delivery =
    "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, organization_id, status, attempts, "
    "next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)";

#define REEL_DELIVERY_SELECT                                                                                      \
  "SELECT d.id, d.message_id, d.endpoint_id, d.organization_id, m.event_type, m.payload, d.status, d.attempts, "  \
  "d.next_attempt_at, d.last_attempt_at, d.response_code, d.latency_ms, d.response_body, d.error, d.created_at, " \
  "d.updated_at, m.created_at FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id "
constexpr const char* k_list_deliveries =
    REEL_DELIVERY_SELECT "WHERE d.endpoint_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?";
constexpr const char* k_find_delivery = REEL_DELIVERY_SELECT "WHERE d.endpoint_id = ? AND d.id = ?";
constexpr const char* k_delivery_by_id = REEL_DELIVERY_SELECT "WHERE d.id = ?";
#undef REEL_DELIVERY_SELECT

// Not leased by a live sender (binds `now`).
#define REEL_NOT_LEASED "(lease_owner IS NULL OR lease_expires_at < ?)"
constexpr const char* k_redeliver =
    "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL, "
    "lease_expires_at = NULL, updated_at = ? WHERE endpoint_id = ? AND id = ? AND " REEL_NOT_LEASED;
// Claimable: pending, due, not leased, of an enabled endpoint (binds `now` twice).
#define REEL_CLAIMABLE                                               \
  "status = 'pending' AND next_attempt_at <= ? AND " REEL_NOT_LEASED \
  " AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1)"
#define REEL_CLAIM_PICK \
  "SELECT id FROM webhook_deliveries WHERE " REEL_CLAIMABLE " ORDER BY next_attempt_at, id LIMIT 1"
constexpr const char* k_claim_pick = REEL_CLAIM_PICK;
constexpr const char* k_claim_pick_locking = REEL_CLAIM_PICK " FOR UPDATE SKIP LOCKED";
constexpr const char* k_due = "SELECT id FROM webhook_deliveries WHERE " REEL_CLAIMABLE " LIMIT 1";
constexpr const char* k_claim_webhooks =
    "UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, "
    "last_attempt_at = ?, updated_at = ? WHERE id = ? AND " REEL_CLAIMABLE;
#undef REEL_CLAIM_PICK
#undef REEL_CLAIMABLE
#undef REEL_NOT_LEASED
constexpr const char* k_claimed_target = "SELECT e.url, e.secret FROM webhook_endpoints e WHERE e.id = ?";
constexpr const char* k_finish_webhooks =
    "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL, "
    "response_code = ?, latency_ms = ?, response_body = ?, error = ?, updated_at = ? WHERE id = ? AND lease_owner = ?";
constexpr const char* k_prune_deliveries =
    "DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND updated_at < ?";
constexpr const char* k_prune_messages =
    "DELETE FROM webhook_messages WHERE created_at < ? AND NOT EXISTS "
    "(SELECT 1 FROM webhook_deliveries d WHERE d.message_id = webhook_messages.id)";
constexpr const char* k_endpoint_succeeded = "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?";
constexpr const char* k_endpoint_failed =
    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since";
constexpr const char* k_disable_endpoint =
    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ?";

std::string events_text(const std::vector<std::string>& events) {
  boost::json::array a;
  for (const auto& e : events) a.emplace_back(e);
  return boost::json::serialize(a);
}

std::vector<std::string> events_of(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) throw db_error(errc::internal, "webhook endpoint events are not a JSON array");
  for (const auto& e : v.as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

webhook_endpoint to_endpoint(const row& r) {
  webhook_endpoint e;
  e.id = r.text(0);
  e.organization_id = r.text(1);
  e.url = r.text(2);
  e.events = events_of(r.text(3));
  e.enabled = r.int64(4) != 0;
  e.secret = r.text(5);
  e.disabled_reason = r.opt_text(6);
  e.disabled_at = r.opt_text(7);
  e.failing_since = r.opt_text(8);
  e.created_at = r.text(9);
  e.updated_at = r.text(10);
  return e;
}

webhook_delivery to_delivery(const row& r) {
  webhook_delivery d;
  d.id = r.text(0);
  d.message_id = r.text(1);
  d.endpoint_id = r.text(2);
  d.organization_id = r.text(3);
  d.event_type = r.text(4);
  d.payload = r.text(5);
  auto status = model::parse_delivery_status(r.text(6));
  if (!status) throw db_error(errc::internal, "unknown webhook delivery status \"" + r.text(6) + "\" in the database");
  d.status = *status;
  d.attempts = r.int64(7);
  d.next_attempt_at = r.text(8);
  d.last_attempt_at = r.opt_text(9);
  d.response_code = r.opt_int64(10);
  d.latency_ms = r.opt_int64(11);
  d.response_body = r.opt_text(12);
  d.error = r.opt_text(13);
  d.created_at = r.text(14);
  d.updated_at = r.text(15);
  return d;
}

// Inserts the message; returns its id.
std::string insert_message(transaction& s, const std::string& org_id, const std::string& type,
                           const boost::json::object& data, const std::string& now) {
  std::string id = "msg_" + ids::random_id(18);
  boost::json::object body{{"type", type}, {"timestamp", now}, {"data", data}};
  s.exec(k_insert_message, {id, org_id, type, boost::json::serialize(body), now});
  return id;
}

std::string insert_delivery(transaction& s, const std::string& message_id, const webhook_endpoint& e,
                            const std::string& now) {
  std::string id = "dlv_" + ids::random_id(12);
  s.exec(k_insert_delivery, {id, message_id, e.id, e.organization_id, now, now, now});
  return id;
}

}  // namespace

void insert_webhook_endpoint(transaction& s, const webhook_endpoint& e) {
  s.exec(k_insert_endpoint, {e.id, e.organization_id, e.url, events_text(e.events), e.enabled, e.secret,
                             e.disabled_reason, e.disabled_at, e.failing_since, e.created_at, e.updated_at});
}

std::optional<webhook_endpoint> find_webhook_endpoint(transaction& s, const std::string& org_id,
                                                      const std::string& id) {
  static const std::string sql =
      std::string("SELECT ") + k_endpoint_columns + " FROM webhook_endpoints WHERE organization_id = ? AND id = ?";
  auto r = s.query_one(sql, {org_id, id});
  if (!r) return std::nullopt;
  return to_endpoint(*r);
}

std::vector<webhook_endpoint> list_webhook_endpoints(transaction& s, const std::string& org_id) {
  static const std::string sql = std::string("SELECT ") + k_endpoint_columns +
                                 " FROM webhook_endpoints WHERE organization_id = ? ORDER BY created_at, id";
  std::vector<webhook_endpoint> out;
  for (const auto& r : s.query(sql, {org_id})) out.push_back(to_endpoint(r));
  return out;
}

bool update_webhook_endpoint(transaction& s, const webhook_endpoint& e) {
  return s.exec(k_update_endpoint, {e.url, events_text(e.events), e.enabled, e.secret, e.disabled_reason, e.disabled_at,
                                    e.failing_since, e.updated_at, e.id, e.organization_id}) > 0;
}

bool delete_webhook_endpoint(transaction& s, const std::string& org_id, const std::string& id) {
  return s.exec(k_delete_endpoint, {id, org_id}) > 0;
}

int record_webhook_event(transaction& s, const std::string& org_id, const std::string& type,
                         const boost::json::object& data, const std::string& now) {
  std::vector<webhook_endpoint> targets;
  for (auto& e : list_webhook_endpoints(s, org_id))
    if (e.enabled && std::find(e.events.begin(), e.events.end(), type) != e.events.end())
      targets.push_back(std::move(e));
  if (targets.empty()) return 0;
  std::string message = insert_message(s, org_id, type, data, now);
  for (const auto& e : targets) insert_delivery(s, message, e, now);
  return static_cast<int>(targets.size());
}

void record_video_event(transaction& s, const model::video& v, const std::string& type, const std::string& now) {
  boost::json::object data{{"id", v.id},
                           {"organizationId", v.organization_id},
                           {"title", v.title},
                           {"status", model::status_name(v.status)},
                           {"sizeBytes", v.size_bytes},
                           {"createdAt", v.created_at}};
  data["error"] = v.error ? boost::json::value(*v.error) : boost::json::value(nullptr);
  data["durationSec"] = v.duration_sec ? boost::json::value(*v.duration_sec) : boost::json::value(nullptr);
  data["readyAt"] = v.ready_at ? boost::json::value(*v.ready_at) : boost::json::value(nullptr);
  record_webhook_event(s, v.organization_id, type, data, now);
}

void record_video_event(transaction& s, const std::string& video_id, const std::string& type, const std::string& now) {
  if (auto v = find_video_any_org(s, video_id)) record_video_event(s, *v, type, now);
}

void record_member_event(transaction& s, const std::string& org_id, const std::string& user_id,
                         const std::optional<model::role>& role, const std::string& type, const std::string& now) {
  boost::json::object data{{"organizationId", org_id}, {"userId", user_id}};
  data["role"] = role ? boost::json::value(model::role_name(*role)) : boost::json::value(nullptr);
  record_webhook_event(s, org_id, type, data, now);
}

webhook_delivery queue_webhook_message(transaction& s, const webhook_endpoint& e, const std::string& type,
                                       const boost::json::object& data, const std::string& now) {
  std::string message = insert_message(s, e.organization_id, type, data, now);
  std::string id = insert_delivery(s, message, e, now);
  return to_delivery(*s.query_one(k_delivery_by_id, {id}));
}

std::vector<webhook_delivery> list_webhook_deliveries(transaction& s, const std::string& endpoint_id, int limit) {
  std::vector<webhook_delivery> out;
  for (const auto& r : s.query(k_list_deliveries, {endpoint_id, limit})) out.push_back(to_delivery(r));
  return out;
}

std::optional<webhook_delivery> find_webhook_delivery(transaction& s, const std::string& endpoint_id,
                                                      const std::string& id) {
  auto r = s.query_one(k_find_delivery, {endpoint_id, id});
  if (!r) return std::nullopt;
  return to_delivery(*r);
}

bool redeliver_webhook(transaction& s, const std::string& endpoint_id, const std::string& id, const std::string& now) {
  return s.exec(k_redeliver, {now, now, endpoint_id, id, now}) > 0;
}

std::optional<claimed_delivery> claim_webhook_delivery(transaction& s, const std::string& owner, const std::string& now,
                                                       const std::string& lease_until) {
  const char* pick = s.locks_rows() ? k_claim_pick_locking : k_claim_pick;
  auto candidate = s.query_one(pick, {now, now});
  if (!candidate) return std::nullopt;
  std::string id = candidate->text(0);
  if (s.exec(k_claim_webhooks, {owner, lease_until, now, now, id, now, now}) == 0) return std::nullopt;
  auto r = s.query_one(k_delivery_by_id, {id});
  if (!r) return std::nullopt;
  claimed_delivery c;
  c.delivery = to_delivery(*r);
  c.message_created_at = r->text(16);
  auto target = s.query_one(k_claimed_target, {c.delivery.endpoint_id});
  if (!target) return std::nullopt;
  c.url = target->text(0);
  c.secret = target->text(1);
  return c;
}

bool webhook_delivery_due(transaction& s, const std::string& now) { return s.query_one(k_due, {now, now}).has_value(); }

bool finish_webhook_attempt(transaction& s, const std::string& id, const std::string& owner, const attempt_outcome& o,
                            const std::string& now) {
  return s.exec(k_finish_webhooks, {model::delivery_status_name(o.status), o.next_attempt_at, o.response_code,
                                    o.latency_ms, o.response_body, o.error, now, id, owner}) > 0;
}

void webhook_endpoint_succeeded(transaction& s, const std::string& endpoint_id) {
  s.exec(k_endpoint_succeeded, {endpoint_id});
}

std::string webhook_endpoint_failed(transaction& s, const std::string& endpoint_id, const std::string& now) {
  auto r = s.query_one(k_endpoint_failed, {now, endpoint_id});
  return r ? r->text(0) : now;
}

void disable_webhook_endpoint(transaction& s, const std::string& endpoint_id, const std::string& reason,
                              const std::string& now) {
  s.exec(k_disable_endpoint, {reason, now, now, endpoint_id});
}

std::int64_t prune_webhook_log(transaction& s, const std::string& before) {
  auto n = s.exec(k_prune_deliveries, {before});
  s.exec(k_prune_messages, {before});
  return n;
}

}  // namespace reel::db
