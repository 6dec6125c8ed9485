#include "mail/smtp_mailer.hpp"

#include "core/async.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <stdexcept>

namespace reel::mail {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

struct item {
  envelope e;
  std::string message_id;
  unsigned attempt = 0;  // tries made so far
  steady::time_point not_before;
};

}  // namespace

struct smtp_mailer::state {
  state(asio::any_io_executor executor, const clock& c, smtp_server s, std::unique_ptr<asio::ssl::context> t,
        mailer_settings ms, address f)
      : ex(executor),
        time(c),
        server(std::move(s)),
        tls(std::move(t)),
        settings(std::move(ms)),
        from(std::move(f)),
        wake(executor) {}

  asio::any_io_executor ex;
  const clock& time;
  smtp_server server;
  std::unique_ptr<asio::ssl::context> tls;
  mailer_settings settings;
  address from;
  asio::steady_timer wake;  // the dispatcher waits on it
  std::deque<item> waiting;
  unsigned in_flight = 0;
  bool running = false, stopped = false;
  std::uint64_t delivered = 0, failed = 0;
};

namespace {

using state_ptr = std::shared_ptr<smtp_mailer::state>;

std::chrono::milliseconds retry_delay(const mailer_settings& s, unsigned attempts_made) {
  auto d = s.retry_base;
  for (unsigned i = 1; i < attempts_made; ++i) d *= 4;
  return d;
}

// What a delivery's outcome changes: the counts, the log, a later try.
void settle(smtp_mailer::state& st, item x, const std::optional<smtp_failure>& failure) {
  std::string where = st.server.where();
  if (!failure) {
    ++st.delivered;
    log::info("email sent", {{"message_id", x.message_id}, {"server", where}, {"attempt", x.attempt}});
    return;
  }
  if (failure->temporary() && x.attempt < st.settings.attempts && !st.stopped) {
    auto delay = retry_delay(st.settings, x.attempt);
    log::warn("email not sent yet; trying again later", {{"message_id", x.message_id},
                                                         {"server", where},
                                                         {"attempt", x.attempt},
                                                         {"retry_in_ms", delay.count()},
                                                         {"error", failure->what()}});
    x.not_before = steady::now() + delay;
    st.waiting.push_back(std::move(x));
    return;
  }
  ++st.failed;
  log::error("email not sent; giving up", {{"message_id", x.message_id},
                                           {"server", where},
                                           {"attempt", x.attempt},
                                           {"permanent", !failure->temporary()},
                                           {"error", failure->what()}});
}

asio::awaitable<void> run_delivery(state_ptr st, item x) {
  ++x.attempt;
  std::optional<smtp_failure> failure;
  try {
    co_await deliver(st->server, st->settings.smtp, *st->tls, x.e);
  } catch (const smtp_failure& f) {
    failure.emplace(f);
  } catch (const std::exception& f) {
    failure.emplace(true, f.what());
  }
  --st->in_flight;
  settle(*st, std::move(x), failure);
  st->wake.cancel();
}

// Starts deliveries of the messages that are due, as many at once as the
// settings allow, and sleeps until the next is due or a delivery ends.
asio::awaitable<void> run_dispatcher(state_ptr st) {
  while (!st->stopped) {
    auto now = steady::now();
    auto next = steady::time_point::max();
    for (auto it = st->waiting.begin(); it != st->waiting.end();) {
      if (it->not_before > now) {
        next = std::min(next, it->not_before);
        ++it;
        continue;
      }
      if (st->in_flight >= st->settings.connections) break;
      item x = std::move(*it);
      it = st->waiting.erase(it);
      ++st->in_flight;
      asio::co_spawn(st->ex, run_delivery(st, std::move(x)), log_failure("sending an email"));
    }
    if (st->in_flight >= st->settings.connections) next = steady::time_point::max();  // a delivery's end wakes it
    st->wake.expires_at(next);
    co_await st->wake.async_wait(use_tuple);
  }
}

std::string domain_of(const std::string& mailbox) { return mailbox.substr(mailbox.rfind('@') + 1); }

}  // namespace

smtp_mailer::smtp_mailer(asio::any_io_executor ex, const clock& c, smtp_server server,
                         std::unique_ptr<asio::ssl::context> tls, mailer_settings settings) {
  auto from = parse_address(settings.from);
  if (!from) throw std::invalid_argument("REEL_SMTP_FROM must be an address like \"reel <reel@example.com>\".");
  if (settings.connections == 0) settings.connections = 1;
  if (settings.attempts == 0) settings.attempts = 1;
  state_ = std::make_shared<state>(ex, c, std::move(server), std::move(tls), std::move(settings), std::move(*from));
}

smtp_mailer::~smtp_mailer() { stop(); }

asio::awaitable<void> smtp_mailer::send(domain::mail_message m) {
  auto& st = *state_;
  if (st.stopped) throw error(errc::unavailable, "Emails are not being sent now.");
  if (st.waiting.size() + st.in_flight >= st.settings.queue_capacity)
    throw error(errc::unavailable, "Too many emails are waiting to be sent; try again later.");
  item x;
  x.message_id = ids::random_id(18) + "@" + domain_of(st.from.mailbox);
  x.e = {st.from.mailbox, m.to, compose(m, st.from, st.time.now(), x.message_id)};
  x.not_before = steady::now();
  st.waiting.push_back(std::move(x));
  if (!st.running) {
    st.running = true;
    asio::co_spawn(st.ex, run_dispatcher(state_), log_failure("the email queue"));
  }
  st.wake.cancel();
  co_return;
}

void smtp_mailer::stop() {
  auto& st = *state_;
  if (st.stopped) return;
  st.stopped = true;
  st.failed += st.waiting.size();
  if (!st.waiting.empty()) log::warn("emails dropped at shutdown", {{"count", st.waiting.size()}});
  st.waiting.clear();
  st.wake.cancel();
}

std::uint64_t smtp_mailer::delivered() const noexcept { return state_->delivered; }
std::uint64_t smtp_mailer::failed() const noexcept { return state_->failed; }
std::size_t smtp_mailer::pending() const noexcept { return state_->waiting.size() + state_->in_flight; }

}  // namespace reel::mail
