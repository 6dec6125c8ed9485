// What the processes of a cluster must agree on, as the domain sees it:
// how many logins failed (so that spreading a password-guessing run over
// nodes does not multiply it) and who writes to a resumable upload (one
// writer per upload in the whole cluster). One process alone keeps both in
// memory (the `local_*` classes); several nodes share them through Redis
// (src/cluster). Loop thread only.
#pragma once

#include "auth/throttle.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace reel::domain {

class login_limiter {
 public:
  virtual ~login_limiter() = default;
  // How long a login for `email` from `address` must wait; nullopt: go ahead.
  virtual boost::asio::awaitable<std::optional<std::chrono::seconds>> retry_after(const std::string& email,
                                                                                  const std::string& address) = 0;
  virtual boost::asio::awaitable<void> record_failure(const std::string& email, const std::string& address) = 0;
  // A successful login clears the email's failures (not the address's).
  virtual boost::asio::awaitable<void> record_success(const std::string& email) = 0;
};

// The failures this process saw (auth::login_throttle).
class local_login_limiter final : public login_limiter {
 public:
  local_login_limiter(const clock& c, auth::throttle_limits limits) : throttle_(c, limits) {}
  boost::asio::awaitable<std::optional<std::chrono::seconds>> retry_after(const std::string& email,
                                                                          const std::string& address) override;
  boost::asio::awaitable<void> record_failure(const std::string& email, const std::string& address) override;
  boost::asio::awaitable<void> record_success(const std::string& email) override;

 private:
  auth::login_throttle throttle_;
};

// Counts events (registrations) per key in a sliding window, refusing those
// beyond a limit; cluster-wide through Redis, or this process's alone.
class rate_limiter {
 public:
  virtual ~rate_limiter() = default;
  // Counts one event under `key` unless `limit` were counted within
  // `window`: then nothing is counted and the answer is how long until one
  // leaves the window. nullopt: counted, go ahead.
  virtual boost::asio::awaitable<std::optional<std::chrono::seconds>> take(const std::string& key, unsigned limit,
                                                                           std::chrono::seconds window) = 0;
};

class local_rate_limiter final : public rate_limiter {
 public:
  explicit local_rate_limiter(const clock& c, std::size_t max_keys = 100'000) : clock_(c), max_keys_(max_keys) {}
  boost::asio::awaitable<std::optional<std::chrono::seconds>> take(const std::string& key, unsigned limit,
                                                                   std::chrono::seconds window) override;
  // The same, synchronously (for the Redis limiter's fallback).
  std::optional<std::chrono::seconds> take_now(const std::string& key, unsigned limit, std::chrono::seconds window);

 private:
  const clock& clock_;
  std::size_t max_keys_;
  std::unordered_map<std::string, std::deque<sys_time>> events_;
};

// The cluster-wide half of an upload's writer lock (the process-wide half
// is domain::uploads' own). Absent on a single node.
class writer_locks {
 public:
  virtual ~writer_locks() = default;
  // Holds the lock on upload `id` until the returned handle is destroyed;
  // null when another process holds it. While held, the lock is renewed;
  // if it is lost all the same (this process stalled past its expiry and
  // another took it), `lost` is called so the writer stops.
  virtual boost::asio::awaitable<std::shared_ptr<void>> acquire(const std::string& id, std::function<void()> lost) = 0;
  // Asks whichever process writes to `id` to stop, and waits (a few
  // seconds at most) until it has let go.
  virtual boost::asio::awaitable<void> stop_writer(const std::string& id) = 0;
  // Called when another process asks this one to stop writing `id`.
  std::function<void(const std::string& id)> on_stop_requested;
};

}  // namespace reel::domain
