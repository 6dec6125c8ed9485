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

}  // namespace reel::domain
