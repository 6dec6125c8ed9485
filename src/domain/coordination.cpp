#include "domain/coordination.hpp"

namespace reel::domain {

namespace asio = boost::asio;

asio::awaitable<std::optional<std::chrono::seconds>> local_login_limiter::retry_after(const std::string& email,
                                                                                      const std::string& address) {
  co_return throttle_.retry_after(email, address);
}

asio::awaitable<void> local_login_limiter::record_failure(const std::string& email, const std::string& address) {
  throttle_.record_failure(email, address);
  co_return;
}

asio::awaitable<void> local_login_limiter::record_success(const std::string& email) {
  throttle_.record_success(email);
  co_return;
}

std::optional<std::chrono::seconds> local_rate_limiter::take_now(const std::string& key, unsigned limit,
                                                                 std::chrono::seconds window) {
  if (limit == 0) return std::nullopt;  // no limit: nothing to count
  auto now = clock_.now();
  if (events_.size() >= max_keys_ && !events_.count(key)) {
    std::erase_if(events_, [&](auto& kv) { return kv.second.empty() || kv.second.back() + window <= now; });
    if (events_.size() >= max_keys_) events_.erase(events_.begin());
  }
  auto& e = events_[key];
  while (!e.empty() && e.front() + window <= now) e.pop_front();
  if (e.size() < limit) {
    e.push_back(now);
    return std::nullopt;
  }
  auto wait = std::chrono::ceil<std::chrono::seconds>(e.front() + window - now);
  return std::max(wait, std::chrono::seconds(1));
}

asio::awaitable<std::optional<std::chrono::seconds>> local_rate_limiter::take(const std::string& key, unsigned limit,
                                                                              std::chrono::seconds window) {
  co_return take_now(key, limit, window);
}

}  // namespace reel::domain
