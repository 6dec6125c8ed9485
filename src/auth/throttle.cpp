#include "auth/throttle.hpp"

namespace reel::auth {

std::optional<std::chrono::seconds> login_throttle::check(std::unordered_map<std::string, failures>& map,
                                                          const std::string& key, unsigned limit) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  auto now = clock_.now();
  auto& f = it->second;
  while (!f.empty() && f.front() + limits_.window <= now) f.pop_front();
  if (f.empty()) {
    map.erase(it);
    return std::nullopt;
  }
  if (f.size() < limit) return std::nullopt;
  // Blocked until enough failures leave the window to get below the limit.
  auto until = f[f.size() - limit] + limits_.window;
  auto wait = std::chrono::ceil<std::chrono::seconds>(until - now);
  return std::max(wait, std::chrono::seconds(1));
}

void login_throttle::add(std::unordered_map<std::string, failures>& map, const std::string& key, unsigned limit) {
  if (map.size() >= limits_.max_tracked_keys && !map.count(key)) {
    // Under a flood of distinct keys, forget the old ones rather than grow.
    auto now = clock_.now();
    std::erase_if(map, [&](auto& kv) { return kv.second.empty() || kv.second.back() + limits_.window <= now; });
    if (map.size() >= limits_.max_tracked_keys) map.erase(map.begin());
  }
  auto& f = map[key];
  f.push_back(clock_.now());
  while (f.size() > limit) f.pop_front();
}

std::optional<std::chrono::seconds> login_throttle::retry_after(const std::string& email, const std::string& address) {
  auto a = check(by_email_, email, limits_.failures_per_email);
  auto b = check(by_address_, address, limits_.failures_per_address);
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
}

void login_throttle::record_failure(const std::string& email, const std::string& address) {
  add(by_email_, email, limits_.failures_per_email);
  add(by_address_, address, limits_.failures_per_address);
}

void login_throttle::record_success(const std::string& email) { by_email_.erase(email); }

}  // namespace reel::auth
