// The domain's cluster-wide agreements (domain/coordination.hpp) kept in
// Redis: failed logins counted by every node together, and one writer per
// upload in the whole cluster. When Redis cannot be reached, each falls
// back to what this process knows alone (requests keep working; the
// limits are per node meanwhile), and says so in the log. Loop thread only.
#pragma once

#include "cluster/link.hpp"
#include "core/clock.hpp"
#include "domain/coordination.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace reel::cluster {

// Failures per email and per client address in a sliding window, as sorted
// sets in Redis (one per key, trimmed to the limit, expiring with the window).
class redis_login_limiter final : public domain::login_limiter {
 public:
  redis_login_limiter(link& l, const clock& c, auth::throttle_limits limits);
  boost::asio::awaitable<std::optional<std::chrono::seconds>> retry_after(const std::string& email,
                                                                          const std::string& address) override;
  boost::asio::awaitable<void> record_failure(const std::string& email, const std::string& address) override;
  boost::asio::awaitable<void> record_success(const std::string& email) override;

 private:
  std::string email_key(const std::string& email) const;
  std::string address_key(const std::string& address) const;
  // EVAL of `script` on the email's and the address's sets, with the time, the window and the limits.
  std::vector<std::string> script_call(const char* script, const std::string& email, const std::string& address) const;
  void fell_back(const std::exception& e);

  link& link_;
  const clock& clock_;
  auth::throttle_limits limits_;
  domain::local_login_limiter local_;  // also fed while Redis is up, for when it is not
  bool warned_ = false;                // once per outage
};

// Events per key in a sliding window, as a sorted set in Redis per key.
class redis_rate_limiter final : public domain::rate_limiter {
 public:
  redis_rate_limiter(link& l, const clock& c) : link_(l), clock_(c), local_(c) {}
  boost::asio::awaitable<std::optional<std::chrono::seconds>> take(const std::string& key, unsigned limit,
                                                                   std::chrono::seconds window) override;

 private:
  link& link_;
  const clock& clock_;
  domain::local_rate_limiter local_;  // while Redis is unreachable
  bool warned_ = false;
};

struct lock_options {
  // A holder that stops renewing (a killed process) loses the lock after this.
  std::chrono::milliseconds ttl{6'000};
  // How long stop_writer() waits for another process's writer to let go.
  std::chrono::milliseconds stop_wait{3'000};
};

// A key per upload (SET NX PX with a random token), renewed every third of
// its time to live while held, deleted (if still this holder's) on release.
class redis_writer_locks final : public domain::writer_locks {
 public:
  // Registers its control messages on `l`: call before l.start().
  redis_writer_locks(link& l, lock_options o = {});
  ~redis_writer_locks() override;
  boost::asio::awaitable<std::shared_ptr<void>> acquire(const std::string& id, std::function<void()> lost) override;
  boost::asio::awaitable<void> stop_writer(const std::string& id) override;

 private:
  struct held;
  boost::asio::awaitable<void> renew(std::shared_ptr<held> h);
  static boost::asio::awaitable<void> release(redis::client& c, std::string key, std::string token);
  std::string key(const std::string& id) const { return "reel:upload-writer:" + id; }

  link& link_;
  lock_options options_;
  bool warned_ = false;  // once per outage
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reel::cluster
