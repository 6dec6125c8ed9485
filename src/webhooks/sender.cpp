#include "webhooks/sender.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "webhooks/signature.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <random>

namespace reel::webhooks {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

std::function<double()> seeded_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto lock = std::make_shared<std::mutex>();
  return [engine, lock] {
    std::lock_guard hold(*lock);
    return std::uniform_real_distribution<double>(0.0, 1.0)(*engine);
  };
}

std::string describe_status(int status) { return "the endpoint answered " + std::to_string(status); }

}  // namespace

std::vector<std::pair<std::string, std::string>> signed_headers(const std::string& secret,
                                                                const std::string& message_id, std::int64_t timestamp,
                                                                const std::string& body) {
  return {{"webhook-id", message_id},
          {"webhook-timestamp", std::to_string(timestamp)},
          {"webhook-signature", sign(secret, message_id, timestamp, body)}};
}

sender::sender(asio::io_context& io, db::gateway& db, const clock& c, sender_settings settings,
               std::function<double()> random)
    : io_(io),
      db_(db),
      clock_(c),
      settings_(std::move(settings)),
      random_(random ? std::move(random) : seeded_random()),
      tls_(make_client_tls()),
      wake_(io) {}

sender::~sender() = default;

void sender::start() {
  if (started_) return;
  started_ = true;
  asio::co_spawn(io_, run_dispatcher(), log_failure("webhook sender"));
}

void sender::stop() {
  stopped_ = true;
  wake_.cancel();
}

void sender::notify() { wake_.cancel(); }

asio::awaitable<void> sender::prune_log() {
  auto now = std::chrono::steady_clock::now();
  if (pruned_ && now - *pruned_ < std::chrono::hours(1)) co_return;
  pruned_ = now;
  std::string before = to_iso8601(clock_.now() - settings_.keep_log);
  auto prune = [&](db::transaction& tx) { return db::prune_webhook_log(tx, before); };
  try {
    auto n = co_await db_.write(prune);
    if (n > 0) log::info("webhook log pruned", {{"deliveries", n}});
  } catch (const std::exception& e) {
    log::warn("webhook log prune failed", {{"error", e.what()}});
  }
}

asio::awaitable<void> sender::run_dispatcher() {
  while (!stopped_) {
    co_await prune_log();
    while (!stopped_ && sending_ < settings_.concurrency) {
      std::optional<db::claimed_delivery> next;
      try {
        next = co_await claim();
      } catch (const std::exception& e) {
        log::warn("webhook sender: no delivery could be claimed", {{"error", e.what()}});
      }
      if (!next) break;
      ++sending_;
      asio::co_spawn(io_, send(std::move(*next)), [this](std::exception_ptr e) {
        --sending_;
        if (e) log::warn("webhook sender: a delivery could not be recorded", {{"error", describe(e)}});
        wake_.cancel();  // room for another
      });
    }
    if (stopped_) break;
    wake_.expires_after(settings_.poll);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::optional<db::claimed_delivery>> sender::claim() {
  std::string now = to_iso8601(clock_.now());
  std::string lease_until = to_iso8601(clock_.now() + settings_.lease);
  const std::string& owner = settings_.owner;
  auto due = [&](db::transaction& tx) { return db::webhook_delivery_due(tx, now); };
  bool any = co_await db_.read(due);
  if (!any) co_return std::nullopt;
  auto take = [&](db::transaction& tx) { return db::claim_webhook_delivery(tx, owner, now, lease_until); };
  co_return co_await db_.write(take);
}

asio::awaitable<void> sender::send(db::claimed_delivery c) {
  post_result result;
  target_url url;
  bool url_ok = true;
  try {
    url = parse_target_url(c.url);
  } catch (const std::invalid_argument& e) {
    url_ok = false;
    result.error = std::string("the endpoint URL is not usable: ") + e.what();
  }
  if (url_ok) {
    auto stamp = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
    auto headers = signed_headers(c.secret, c.delivery.message_id, stamp, c.delivery.payload);
    result = co_await post(tls_, url, headers, c.delivery.payload, settings_.client);
  }
  co_await record(c, result);
}

asio::awaitable<void> sender::record(const db::claimed_delivery& c, const post_result& r) {
  auto at = clock_.now();
  std::string now = to_iso8601(at);
  db::attempt_outcome o;
  o.response_code = r.status;
  o.latency_ms = r.latency.count();
  if (r.status) o.response_body = loggable_body(r.body);
  o.error = r.error;
  bool ok = r.status && *r.status >= 200 && *r.status < 300;
  bool gone = r.status && *r.status == 410;
  auto delay = retry_delay(settings_.retry_schedule, c.delivery.attempts, random_());
  std::optional<std::string> disable;
  if (ok) {
    o.status = model::delivery_status::delivered;
  } else if (gone) {
    o.status = model::delivery_status::failed;
    disable = "The endpoint answered 410 Gone at " + now + ".";
  } else {
    if (!o.error && r.status) o.error = describe_status(*r.status);
    o.status = delay ? model::delivery_status::pending : model::delivery_status::failed;
    if (delay) o.next_attempt_at = to_iso8601(at + *delay);
  }
  if (o.next_attempt_at.empty()) o.next_attempt_at = now;
  const auto& d = c.delivery;
  const std::string& owner = settings_.owner;
  auto disable_after = settings_.disable_after;
  auto write = [&](db::transaction& tx) {
    if (!db::finish_webhook_attempt(tx, d.id, owner, o, now)) return;  // taken over meanwhile
    if (ok) db::webhook_endpoint_succeeded(tx, d.endpoint_id);
    if (!ok && !gone) {
      auto since = db::webhook_endpoint_failed(tx, d.endpoint_id, now);
      auto since_time = from_iso8601(since);
      if (since_time && at - *since_time >= disable_after)
        disable = "Every delivery has failed since " + since + " (the last: " + o.error.value_or("") + ").";
    }
    if (disable) db::disable_webhook_endpoint(tx, d.endpoint_id, *disable, now);
  };
  co_await db_.write(write);
  log::info("webhook attempt", {{"delivery", d.id},
                                {"message", d.message_id},
                                {"attempt", d.attempts},
                                {"status", r.status.value_or(0)},
                                {"outcome", model::delivery_status_name(o.status)},
                                {"error", o.error.value_or("")}});
  if (disable) log::warn("webhook endpoint disabled", {{"endpoint", d.endpoint_id}, {"reason", *disable}});
}

}  // namespace reel::webhooks
