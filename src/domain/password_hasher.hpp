// Password hashing and checking as the domain uses it: argon2id on threads
// of its own (never the pool the database runs on, so a flood of logins or
// registrations cannot starve every other request), a bounded number at
// once and waiting, and the password policy (auth::password_policy) before
// any new password is hashed. Coroutines on the loop thread.
#pragma once

#include "auth/password_policy.hpp"
#include "auth/passwords.hpp"
#include "core/offload.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <string>

namespace reel::domain {

struct hasher_settings {
  unsigned threads = 2;
  // Hashes that may wait for a thread; beyond, error(unavailable).
  unsigned queue = 64;
  auth::password_cost cost;
  // cracklib's dictionary (auth::password_policy); empty: the default.
  std::string dictionary;
};

class password_hasher {
 public:
  explicit password_hasher(hasher_settings s = {});

  // The encoded hash of a new password for the person with `email` and
  // `name`, after the policy: error(bad_request) saying why `field` is
  // refused ("The field "password" is too easy to guess: it is based on a
  // dictionary word."), error(unavailable) with Retry-After when too many
  // hashes are waiting already.
  boost::asio::awaitable<std::string> hash_new(const std::string& password, const std::string& email,
                                               const std::string& name, const char* field = "password");
  // A hash without the policy (dummy hashes for timing).
  boost::asio::awaitable<std::string> hash_any(const std::string& password);
  // Whether `password` matches `encoded`; error(unavailable) as above.
  boost::asio::awaitable<bool> verify(const std::string& encoded, const std::string& password);

  // Throws std::runtime_error when the policy's dictionary cannot be read.
  void check_dictionary() const { policy_.check_dictionary(); }
  const auth::password_policy& policy() const noexcept { return policy_; }

  // Hashes and verifications running or waiting now.
  unsigned in_flight() const noexcept { return in_flight_.load(); }
  // Requests refused because the queue was full, since start.
  std::uint64_t refused() const noexcept { return refused_.load(); }

 private:
  // Admission: a slot for one job, released when the guard goes.
  struct slot;
  slot admit();

  hasher_settings settings_;
  auth::password_policy policy_;
  worker_pool pool_;
  std::atomic<unsigned> in_flight_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace reel::domain
