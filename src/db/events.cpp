#include "db/events.hpp"

namespace reel::db {

namespace {

constexpr const char* k_append = "INSERT INTO events (organization_id, name, payload, created_at) VALUES (?, ?, ?, ?)";
// Held until the transaction ends: appenders on PostgreSQL take their ids one
// transaction after another, in the order they commit.
constexpr const char* k_lock_order = "SELECT pg_advisory_xact_lock(?)";
constexpr std::int64_t k_order_lock_key = 0x7265656c'6576656e;  // "reeleven"
// With no rows, 0 is as good as the last id ever given: every later row has a larger one.
constexpr const char* k_last_id = "SELECT COALESCE(MAX(id), 0) FROM events";
constexpr const char* k_after =
    "SELECT id, organization_id, name, payload, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?";
constexpr const char* k_prune = "DELETE FROM events WHERE created_at < ?";

// Where append_order's notifications go (PostgreSQL's LISTEN/NOTIFY).
constexpr std::string_view k_events_channel = "reel_events";

}  // namespace

void append_order(transaction& s) {
  if (s.locks_rows()) s.query(k_lock_order, {k_order_lock_key});
  s.notify(k_events_channel);
}

void append_event(transaction& s, const outbox_event& e, const std::string& now) {
  s.exec(k_append, {e.organization_id, e.name, e.payload, now});
}

std::int64_t last_event_id(transaction& s) { return s.query_one(k_last_id)->int64(0); }

std::vector<outbox_event> events_after(transaction& s, std::int64_t after, std::int64_t limit) {
  std::vector<outbox_event> out;
  for (const auto& r : s.query(k_after, {after, limit}))
    out.push_back({r.int64(0), r.text(1), r.text(2), r.text(3), r.text(4)});
  return out;
}

std::int64_t prune_events(transaction& s, const std::string& before) { return s.exec(k_prune, {before}); }

std::unique_ptr<listener> listen_for_events(database& d, boost::asio::any_io_executor loop) {
  return d.listen(k_events_channel, std::move(loop));
}

}  // namespace reel::db
