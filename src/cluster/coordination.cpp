#include "cluster/coordination.hpp"

#include "auth/tokens.hpp"
#include "core/async.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace reel::cluster {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// KEYS: the sorted sets of failures; ARGV: now (ms), window (ms), first
// delay (ms), then each key's free failures and its delay cap (ms).
// Returns the milliseconds to wait (0: go ahead), as login_throttle does:
// past the free failures, the delay after the last one doubles with each.
constexpr const char* check_script = R"lua(
local now, window, first, wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 0
for i = 1, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local n, free, cap = redis.call('ZCARD', KEYS[i]), tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  if n > free then
    local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
    local delay = math.min(first * 2 ^ math.min(n - free - 1, 30), cap)
    wait = math.max(wait, tonumber(last[2]) + delay - now)
  end
end
return math.floor(wait)
)lua";

// KEYS: the sorted sets; ARGV as check_script's, then a unique member.
constexpr const char* record_script = R"lua(
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[#ARGV]
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[2 + 2 * i]) + 32))
  redis.call('PEXPIRE', KEYS[i], window)
end
return 1
)lua";

// KEYS[1]: the sorted set of events; ARGV: now (ms), window (ms), limit, a
// unique member. Counts one event unless `limit` are in the window; returns
// 0 when counted, else the milliseconds until one leaves the window.
constexpr const char* take_script = R"lua(
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
)lua";

// Renews the lock if it is still this holder's, or takes it again if it
// is gone (Redis restarted); 0 when another holder has it.
constexpr const char* renew_script = R"lua(
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); return 1 end
return 0
)lua";

constexpr const char* release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::int64_t millis_since_epoch(sys_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// One warning per outage, not one per request.
void warn_fallback(bool& warned, const char* what, const std::exception& e) {
  if (warned) return;
  warned = true;
  log::warn(what, {{"error", e.what()}});
}

constexpr const char* k_login_fallback = "login throttling counts on this node only: Redis is not reachable";

// What a script answering "milliseconds to wait" said: `answered` false
// when Redis could not be asked (warned once per outage with `fallback`).
struct asked {
  bool answered = false;
  std::optional<std::chrono::seconds> wait;  // nullopt: go ahead
};

asio::awaitable<asked> ask_wait(link& l, std::vector<std::string> script_args, bool& warned, const char* fallback) {
  asked out;
  try {
    auto reply = co_await l.commands().command(std::move(script_args));
    out.answered = true;
    warned = false;
    if (reply.integer > 0)
      out.wait = std::max(std::chrono::seconds(1),
                          std::chrono::ceil<std::chrono::seconds>(std::chrono::milliseconds(reply.integer)));
  } catch (const std::exception& e) {
    warn_fallback(warned, fallback, e);
  }
  co_return out;
}

}  // namespace

// --- logins ---

redis_login_limiter::redis_login_limiter(link& l, const clock& c, auth::throttle_limits limits)
    : link_(l), clock_(c), limits_(limits), local_(c, limits) {}

std::string redis_login_limiter::email_key(const std::string& email) const {
  return "reel:login-failures:email:" + auth::hash_token(email);  // no address in clear in Redis
}

std::string redis_login_limiter::address_key(const std::string& address) const {
  return "reel:login-failures:address:" + address;
}

std::vector<std::string> redis_login_limiter::script_call(const char* script, const std::string& email,
                                                          const std::string& address) const {
  return {"EVAL",
          script,
          "2",
          email_key(email),
          address_key(address),
          std::to_string(millis_since_epoch(clock_.now())),
          std::to_string(std::chrono::milliseconds(limits_.window).count()),
          std::to_string(std::chrono::milliseconds(limits_.first_delay).count()),
          std::to_string(limits_.free_failures_per_email),
          std::to_string(std::chrono::milliseconds(limits_.max_email_delay).count()),
          std::to_string(limits_.free_failures_per_address),
          std::to_string(std::chrono::milliseconds(limits_.max_address_delay).count())};
}

void redis_login_limiter::fell_back(const std::exception& e) { warn_fallback(warned_, k_login_fallback, e); }

asio::awaitable<std::optional<std::chrono::seconds>> redis_login_limiter::retry_after(const std::string& email,
                                                                                      const std::string& address) {
  auto args = script_call(check_script, email, address);
  auto answer = co_await ask_wait(link_, std::move(args), warned_, k_login_fallback);
  if (!answer.answered) co_return co_await local_.retry_after(email, address);
  co_return answer.wait;
}

asio::awaitable<void> redis_login_limiter::record_failure(const std::string& email, const std::string& address) {
  co_await local_.record_failure(email, address);
  auto args = script_call(record_script, email, address);
  args.push_back(ids::random_id(9));  // the failure's member in the sorted sets
  try {
    co_await link_.commands().command(std::move(args));
  } catch (const std::exception& e) {
    fell_back(e);
  }
}

asio::awaitable<void> redis_login_limiter::record_success(const std::string& email) {
  co_await local_.record_success(email);
  std::vector<std::string> args{"DEL", email_key(email)};
  try {
    co_await link_.commands().command(std::move(args));
  } catch (const std::exception& e) {
    fell_back(e);
  }
}

// --- rates ---

asio::awaitable<std::optional<std::chrono::seconds>> redis_rate_limiter::take(const std::string& key, unsigned limit,
                                                                              std::chrono::seconds window) {
  if (limit == 0) co_return std::nullopt;
  std::vector<std::string> args{"EVAL",
                                take_script,
                                "1",
                                "reel:rate:" + key,
                                std::to_string(millis_since_epoch(clock_.now())),
                                std::to_string(std::chrono::milliseconds(window).count()),
                                std::to_string(limit),
                                ids::random_id(9)};
  auto answer =
      co_await ask_wait(link_, std::move(args), warned_, "rate limits count on this node only: Redis is not reachable");
  if (!answer.answered) co_return local_.take_now(key, limit, window);
  co_return answer.wait;
}

// --- upload writers ---

struct redis_writer_locks::held {
  std::string id, key, token;
  std::function<void()> lost;
  asio::steady_timer timer;
  bool released = false;
};

redis_writer_locks::redis_writer_locks(link& l, lock_options o) : link_(l), options_(o) {
  link_.on(control_channel, [this](const json::object& m) {
    const json::value* type = m.if_contains("t");
    const json::value* upload = m.if_contains("upload");
    if (!type || *type != "stop-writer" || !upload || !upload->is_string()) return;
    if (on_stop_requested) on_stop_requested(std::string(upload->get_string()));
  });
}

redis_writer_locks::~redis_writer_locks() { *alive_ = false; }

asio::awaitable<std::shared_ptr<void>> redis_writer_locks::acquire(const std::string& id, std::function<void()> lost) {
  auto ex = co_await asio::this_coro::executor;
  auto h = std::make_shared<held>(held{id, key(id), ids::random_id(12), std::move(lost), asio::steady_timer(ex)});
  std::vector<std::string> args{"SET", h->key, h->token, "NX", "PX", std::to_string(options_.ttl.count())};
  try {
    auto reply = co_await link_.commands().command(std::move(args));
    warned_ = false;
    if (reply.type == redis::value::kind::nil) co_return nullptr;  // another process writes
  } catch (const std::exception& e) {
    // Not reachable: this process's own lock is all there is for now.
    warn_fallback(warned_, "upload writer locks hold on this node only: Redis is not reachable", e);
    co_return std::make_shared<int>(0);
  }
  asio::co_spawn(ex, renew(h), log_failure("renewing an upload writer lock"));
  // Released when the writer is done with it.
  auto release_on_drop = [this, h, alive = alive_, ex](void*) {
    h->released = true;
    h->timer.cancel();
    if (*alive) asio::co_spawn(ex, release(link_.commands(), h->key, h->token), log_failure("releasing a lock"));
  };
  co_return std::shared_ptr<void>(static_cast<void*>(h.get()), release_on_drop);
}

asio::awaitable<void> redis_writer_locks::renew(std::shared_ptr<held> h) {
  auto alive = alive_;
  while (true) {
    boost::system::error_code ec;
    h->timer.expires_after(options_.ttl / 3);
    co_await h->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (h->released || !*alive) co_return;
    std::vector<std::string> args{"EVAL", renew_script, "1", h->key, h->token, std::to_string(options_.ttl.count())};
    try {
      auto reply = co_await link_.commands().command(std::move(args));
      if (!*alive || h->released) co_return;
      if (reply.integer == 0) {
        log::warn("an upload writer lock was taken over by another node", {{"upload", h->id}});
        if (h->lost) h->lost();
        co_return;
      }
    } catch (const std::exception&) {
      // Redis is down: try again next time (the key may be gone by then; it is taken again).
      if (!*alive) co_return;
    }
  }
}

asio::awaitable<void> redis_writer_locks::release(redis::client& c, std::string key, std::string token) {
  std::vector<std::string> args{"EVAL", release_script, "1", std::move(key), std::move(token)};
  try {
    co_await c.command(std::move(args));
  } catch (const std::exception&) {
    // It expires by itself.
  }
}

asio::awaitable<void> redis_writer_locks::stop_writer(const std::string& id) {
  link_.publish(control_channel, json::object{{"t", "stop-writer"}, {"upload", id}});
  auto alive = alive_;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer tick(ex);
  auto until = std::chrono::steady_clock::now() + options_.stop_wait;
  while (std::chrono::steady_clock::now() < until) {
    std::vector<std::string> args{"EXISTS", key(id)};
    try {
      auto reply = co_await link_.commands().command(std::move(args));
      if (!*alive || reply.integer == 0) co_return;
    } catch (const std::exception&) {
      co_return;  // not reachable: nothing more to learn
    }
    tick.expires_after(std::chrono::milliseconds(50));
    co_await tick.async_wait(asio::use_awaitable);
    if (!*alive) co_return;
  }
}

}  // namespace reel::cluster
