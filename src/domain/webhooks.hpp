// Webhook endpoints of an organization (docs/api-webhooks.md): admins and
// owners add them (a URL, the event types they receive, enabled or not),
// see their secret and their delivery log, change them, rotate the secret,
// send a test event and send a delivery again. The events themselves are
// written to the outbox by the database layer, in the transaction of each
// change (db/webhooks.hpp), and sent by webhooks::sender.
// Coroutines on the loop thread; the database runs on the pool.
#pragma once

#include "core/clock.hpp"
#include "model/principal.hpp"
#include "model/webhooks.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

// What a PATCH changes; absent fields stay as they are.
struct webhook_changes {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<bool> enabled;
  bool rotate_secret = false;
};

class webhooks {
 public:
  webhooks(db::gateway& db, const clock& c) : db_(db), clock_(c) {}

  // Called (on the loop) after a delivery was queued here: wakes the sender.
  std::function<void()> on_queued;

  // Every function requires admin or owner in `in` (error(forbidden)),
  // and answers error(not_found) for an endpoint or delivery id that is not
  // `in`'s. URLs and events are checked here: error(bad_request) naming
  // what is wrong (webhooks::parse_target_url's rules; events: 1..8 known
  // types, no repeats).
  boost::asio::awaitable<model::webhook_endpoint> create(const model::org_scope& in, const std::string& url,
                                                         std::vector<std::string> events, bool enabled);
  boost::asio::awaitable<std::vector<model::webhook_endpoint>> list(const model::org_scope& in);
  boost::asio::awaitable<model::webhook_endpoint> get(const model::org_scope& in, const std::string& id);
  // Enabling clears why it was disabled; rotating makes a new secret at once.
  boost::asio::awaitable<model::webhook_endpoint> update(const model::org_scope& in, const std::string& id,
                                                         const webhook_changes& changes);
  boost::asio::awaitable<void> remove(const model::org_scope& in, const std::string& id);
  // Newest first, at most `limit`.
  boost::asio::awaitable<std::vector<model::webhook_delivery>> deliveries(const model::org_scope& in,
                                                                          const std::string& id, int limit);
  // Sends the delivery again from the start of the schedule, with the same
  // webhook-id; error(conflict) while it is being sent.
  boost::asio::awaitable<model::webhook_delivery> redeliver(const model::org_scope& in, const std::string& id,
                                                            const std::string& delivery_id);
  // Queues a "webhook.test" message to the endpoint alone.
  boost::asio::awaitable<model::webhook_delivery> send_test(const model::org_scope& in, const std::string& id);

  // The event types, checked: error(bad_request) for an empty list, an
  // unknown type or a repeat.
  static std::vector<std::string> checked_events(std::vector<std::string> events);
  // The URL, checked: error(bad_request) with the reason.
  static std::string checked_url(const std::string& url);

 private:
  void queued() const {
    if (on_queued) on_queued();
  }

  db::gateway& db_;
  const clock& clock_;
};

}  // namespace reel::domain
