// Login throttling: counts failed logins per email and per client address
// in a sliding window; past the limit, further attempts are refused until
// the oldest failure leaves the window. Loop thread only; bounded memory.
#pragma once

#include "core/clock.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace reel::auth {

struct throttle_limits {
  unsigned failures_per_email = 5;
  unsigned failures_per_address = 20;
  std::chrono::seconds window{15 * 60};
  std::size_t max_tracked_keys = 100'000;
};

class login_throttle {
 public:
  login_throttle(const clock& c, throttle_limits limits = {}) : clock_(c), limits_(limits) {}

  // When a login for `email` from `address` must wait: the seconds until it
  // may try again. nullopt = go ahead.
  std::optional<std::chrono::seconds> retry_after(const std::string& email, const std::string& address);
  void record_failure(const std::string& email, const std::string& address);
  // A successful login clears the email's failures (not the address's).
  void record_success(const std::string& email);

 private:
  using failures = std::deque<sys_time>;
  std::optional<std::chrono::seconds> check(std::unordered_map<std::string, failures>& map, const std::string& key,
                                            unsigned limit);
  void add(std::unordered_map<std::string, failures>& map, const std::string& key, unsigned limit);

  const clock& clock_;
  throttle_limits limits_;
  std::unordered_map<std::string, failures> by_email_;
  std::unordered_map<std::string, failures> by_address_;
};

}  // namespace reel::auth
