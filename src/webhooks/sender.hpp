// The background sender of webhook deliveries: one per server process, on
// the loop, sending up to `concurrency` at once, each the delivery due first
// (db::claim_webhook_delivery: a lease, so that several processes never
// send one delivery at once), posting it (webhooks::post) and recording
// what happened. Retries follow the schedule with ±20% jitter; 2xx is
// delivered; 410 fails the delivery and disables the endpoint; anything
// else (other statuses, timeouts, connection errors, refused addresses) is
// retried until the schedule is exhausted, and an endpoint that has failed
// for `disable_after` without a success is disabled with the reason.
//
// Nothing is lost to a crash: deliveries are rows; one whose sender died
// is claimed again when its lease expires and sent with the same
// webhook-id. Database work runs on the pool (db::gateway); the HTTP
// client is asynchronous on the loop.
#pragma once

#include "core/clock.hpp"
#include "db/database.hpp"
#include "db/webhooks.hpp"
#include "webhooks/client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reel::webhooks {

struct sender_settings {
  std::vector<std::chrono::milliseconds> retry_schedule = default_retry_schedule();
  client_options client;
  // How often an idle runner looks for due deliveries.
  std::chrono::milliseconds poll{1'000};
  // How long a claim holds a delivery: longer than client.total_timeout.
  std::chrono::milliseconds lease{60'000};
  // An endpoint failing this long without a success is disabled.
  std::chrono::milliseconds disable_after{std::chrono::hours(72)};
  unsigned concurrency = 8;
  // Deliveries that ended are kept in the log this long, then forgotten
  // (looked at every hour, and at start).
  std::chrono::milliseconds keep_log{std::chrono::hours(24 * 30)};
  // The lease owner's name: this process.
  std::string owner = "reel";
};

// The headers of one attempt of message `message_id` at `timestamp` (Unix
// seconds): webhook-id, webhook-timestamp, webhook-signature.
std::vector<std::pair<std::string, std::string>> signed_headers(const std::string& secret,
                                                                const std::string& message_id, std::int64_t timestamp,
                                                                const std::string& body);

class sender {
 public:
  // `random` returns numbers in [0, 1) for the jitter (default: a seeded engine).
  sender(boost::asio::io_context& io, db::gateway& db, const clock& c, sender_settings settings,
         std::function<double()> random = {});
  ~sender();

  void start();
  // Stops claiming; a delivery being sent finishes or, if the process ends
  // first, is sent again after its lease expires. Idempotent.
  void stop();
  // Wakes idle runners: deliveries were queued by this process.
  void notify();

 private:
  // Claims due deliveries while fewer than `concurrency` are being sent,
  // and starts a send for each; then waits for the poll, a notify() or the
  // end of a send.
  boost::asio::awaitable<void> run_dispatcher();
  // Claims one delivery; nullopt when none is due.
  boost::asio::awaitable<std::optional<db::claimed_delivery>> claim();
  boost::asio::awaitable<void> send(db::claimed_delivery c);
  // Forgets the log older than keep_log, once an hour.
  boost::asio::awaitable<void> prune_log();
  boost::asio::awaitable<void> record(const db::claimed_delivery& c, const post_result& r);

  boost::asio::io_context& io_;
  db::gateway& db_;
  const clock& clock_;
  sender_settings settings_;
  std::function<double()> random_;
  boost::asio::ssl::context tls_;
  boost::asio::steady_timer wake_;
  unsigned sending_ = 0;
  std::optional<std::chrono::steady_clock::time_point> pruned_;
  bool started_ = false, stopped_ = false;
};

}  // namespace reel::webhooks
