#include "api/caches.hpp"

namespace reel::api {

const stream_cache::entry* stream_cache::find(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  if (std::chrono::steady_clock::now() >= it->second.until) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void stream_cache::put(const model::video& v, http::file_info f) {
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[v.id] = entry{v, std::move(f), std::chrono::steady_clock::now() + ttl_};
}

std::uint64_t list_cache::generation(const std::string& org) const {
  auto it = generations_.find(org);
  return epoch_ + (it == generations_.end() ? 0 : it->second);
}

const std::string* list_cache::find(const std::string& key, const std::string& org) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (std::chrono::steady_clock::now() >= it->second.until || it->second.generation != generation(org)) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second.body;
}

void list_cache::put(const std::string& key, const std::string& org, std::uint64_t generation, std::string body) {
  if (generation != this->generation(org)) return;  // changed while it was read
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[key] = entry{org, std::move(body), generation, std::chrono::steady_clock::now() + ttl_};
}

}  // namespace reel::api
