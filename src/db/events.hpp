// The events outbox: how a process without Redis (a separate `reel worker`)
// tells the API nodes what happened to videos. The worker appends each
// event as a row; every API node tails the table (rows after the last id it
// saw, in id order) and publishes them to its own hub. Rows are live
// updates, not records: they are pruned after a few minutes, and the state
// they announce is in the videos table.
//
// Ids only grow, and a row becomes visible only after every row with a
// smaller id: on SQLite because writes run one at a time and the id is
// AUTOINCREMENT (never reused, even after the table was emptied); on
// PostgreSQL, where writes run side by side, because appenders take one
// advisory lock for the rest of their transaction before they insert, so
// that ids are handed out in commit order. A tail that remembers the
// largest id it read therefore misses nothing and reads nothing twice.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reel::db {

struct outbox_event {
  std::int64_t id = 0;
  std::string organization_id;
  std::string name;     // "video:progress", ...
  std::string payload;  // JSON text
  std::string created_at;
};

// Appends one event (its id is the database's; `id` and `created_at` are
// ignored: created_at is `now`). Call append_order first in the transaction.
void append_event(transaction& s, const outbox_event& e, const std::string& now);

// Orders this transaction's appends after every other transaction's
// (PostgreSQL: an advisory lock held to the end of the transaction; SQLite:
// nothing, the write lock does it), and tells the tails of every process,
// once it commits, that there is something to read (PostgreSQL's NOTIFY;
// SQLite's tails poll).
void append_order(transaction& s);

// The largest id so far (0 when there never was a row): where a new tail starts.
std::int64_t last_event_id(transaction& s);

// Up to `limit` events with an id above `after`, in id order.
std::vector<outbox_event> events_after(transaction& s, std::int64_t after, std::int64_t limit);

// Removes the events created before `before`; returns how many.
std::int64_t prune_events(transaction& s, const std::string& before);

// A listener (not yet started) that hears append_order's notifications from
// every process; nullptr when the backend has none (SQLite).
std::unique_ptr<listener> listen_for_events(database& d, boost::asio::any_io_executor loop);

}  // namespace reel::db
