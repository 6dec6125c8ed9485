// Login throttling that slows guessing down without locking anyone out:
// failed logins are counted per email and per client address in a sliding
// window; past a few free failures, each further attempt must wait a delay
// that doubles with every failure (1 s, 2 s, 4 s … up to a cap), counted
// from the last failure. The right password after the delay signs in.
// Loop thread only; bounded memory.
#pragma once

#include "core/clock.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace reel::auth {

struct throttle_limits {
  // Failures without delay; the next failure costs first_delay, each one
  // after doubles it, up to the cap.
  unsigned free_failures_per_email = 3;
  unsigned free_failures_per_address = 20;
  std::chrono::seconds first_delay{1};
  std::chrono::seconds max_email_delay{15 * 60};
  // An address may be a NAT or a proxy with many people behind it: its
  // delay stays short.
  std::chrono::seconds max_address_delay{60};
  // Failures older than this are forgotten.
  std::chrono::seconds window{15 * 60};
  std::size_t max_tracked_keys = 100'000;
};

// The delay after `failures` failures with `free` of them free:
// 0 up to `free`, then first, 2·first, 4·first … at most `cap`.
std::chrono::milliseconds throttle_delay(std::size_t failures, unsigned free, std::chrono::seconds first,
                                         std::chrono::seconds cap);

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
                                            unsigned free, std::chrono::seconds cap);
  void add(std::unordered_map<std::string, failures>& map, const std::string& key, unsigned free);

  const clock& clock_;
  throttle_limits limits_;
  std::unordered_map<std::string, failures> by_email_;
  std::unordered_map<std::string, failures> by_address_;
};

}  // namespace reel::auth
