#include "domain/password_hasher.hpp"

#include "core/errors.hpp"

namespace reel::domain {

namespace asio = boost::asio;

struct password_hasher::slot {
  std::atomic<unsigned>* count;
  explicit slot(std::atomic<unsigned>* c) : count(c) {}
  slot(slot&& o) noexcept : count(o.count) { o.count = nullptr; }
  slot(const slot&) = delete;
  ~slot() {
    if (count) count->fetch_sub(1);
  }
};

password_hasher::password_hasher(hasher_settings s)
    : settings_(std::move(s)), policy_(settings_.dictionary), pool_(settings_.threads, /*nice=*/15) {}

password_hasher::slot password_hasher::admit() {
  const unsigned limit = settings_.threads + settings_.queue;
  unsigned now = in_flight_.load();
  do {
    if (now >= limit) {
      refused_.fetch_add(1);
      // A hash takes ~75 ms: the queue empties within a second or two.
      throw error(errc::unavailable, "Too many passwords are being checked right now; try again in a few seconds.",
                  std::chrono::seconds(2));
    }
  } while (!in_flight_.compare_exchange_weak(now, now + 1));
  return slot(&in_flight_);
}

asio::awaitable<std::string> password_hasher::hash_new(const std::string& password, const std::string& email,
                                                       const std::string& name, const char* field) {
  auto held = admit();
  auto cost = settings_.cost;
  const auth::password_policy& policy = policy_;
  struct outcome {
    std::optional<std::string> weakness;
    std::string hash;
  };
  auto job = [&password, &email, &name, &policy, cost] {
    outcome out;
    out.weakness = policy.weakness(password, email, name);
    if (!out.weakness) out.hash = auth::hash_password(password, cost);
    return out;
  };
  outcome out = co_await pool_.offload(job);
  if (out.weakness)
    throw error(errc::bad_request, std::string("The field \"") + field + "\" is too easy to guess: " + *out.weakness +
                                       ". Choose a longer one, such as a few unrelated words.");
  co_return std::move(out.hash);
}

asio::awaitable<std::string> password_hasher::hash_any(const std::string& password) {
  auto held = admit();
  auto cost = settings_.cost;
  auto job = [&password, cost] { return auth::hash_password(password, cost); };
  co_return co_await pool_.offload(job);
}

asio::awaitable<bool> password_hasher::verify(const std::string& encoded, const std::string& password) {
  auto held = admit();
  auto job = [&encoded, &password] { return auth::verify_password(encoded, password); };
  co_return co_await pool_.offload(job);
}

}  // namespace reel::domain
