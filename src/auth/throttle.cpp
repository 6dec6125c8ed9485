#include "auth/throttle.hpp"

#include <algorithm>

namespace reel::auth {

namespace {
// Failures kept per key: enough for the delay to reach any cap (2^30 s).
constexpr std::size_t k_counted_beyond_free = 31;
}  // namespace

std::chrono::milliseconds throttle_delay(std::size_t failures, unsigned free, std::chrono::seconds first,
                                         std::chrono::seconds cap) {
  if (failures <= free) return std::chrono::milliseconds(0);
  std::size_t doublings = std::min<std::size_t>(failures - free - 1, 30);
  auto delay = std::chrono::milliseconds(first) * (std::int64_t(1) << doublings);
  return std::min<std::chrono::milliseconds>(delay, cap);
}

std::optional<std::chrono::seconds> login_throttle::check(std::unordered_map<std::string, failures>& map,
                                                          const std::string& key, unsigned free,
                                                          std::chrono::seconds cap) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  auto now = clock_.now();
  auto& f = it->second;
  while (!f.empty() && f.front() + limits_.window <= now) f.pop_front();
  if (f.empty()) {
    map.erase(it);
    return std::nullopt;
  }
  auto until = f.back() + throttle_delay(f.size(), free, limits_.first_delay, cap);
  if (until <= now) return std::nullopt;
  return std::max(std::chrono::ceil<std::chrono::seconds>(until - now), std::chrono::seconds(1));
}

void login_throttle::add(std::unordered_map<std::string, failures>& map, const std::string& key, unsigned free) {
  if (map.size() >= limits_.max_tracked_keys && !map.count(key)) {
    // Under a flood of distinct keys, forget the old ones rather than grow.
    auto now = clock_.now();
    std::erase_if(map, [&](auto& kv) { return kv.second.empty() || kv.second.back() + limits_.window <= now; });
    if (map.size() >= limits_.max_tracked_keys) map.erase(map.begin());
  }
  auto& f = map[key];
  f.push_back(clock_.now());
  while (f.size() > free + k_counted_beyond_free) f.pop_front();
}

std::optional<std::chrono::seconds> login_throttle::retry_after(const std::string& email, const std::string& address) {
  auto a = check(by_email_, email, limits_.free_failures_per_email, limits_.max_email_delay);
  auto b = check(by_address_, address, limits_.free_failures_per_address, limits_.max_address_delay);
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
}

void login_throttle::record_failure(const std::string& email, const std::string& address) {
  add(by_email_, email, limits_.free_failures_per_email);
  add(by_address_, address, limits_.free_failures_per_address);
}

void login_throttle::record_success(const std::string& email) { by_email_.erase(email); }

}  // namespace reel::auth
