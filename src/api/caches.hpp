// The API's two caches, both per process and on the loop thread only.
#pragma once

#include "http/file_response.hpp"
#include "model/videos.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace reel::api {

// Recently streamed videos: the row and the open file, so that a player's
// run of range requests costs neither a database query nor an open(2) each
// (nginx's open_file_cache, keyed by video). Entries live `ttl`; changes
// made in this process invalidate them at once. Loop thread only.
class stream_cache {
 public:
  struct entry {
    model::video video;
    http::file_info file;
    std::chrono::steady_clock::time_point until;
  };
  explicit stream_cache(std::chrono::milliseconds ttl = std::chrono::seconds(2), std::size_t capacity = 10'000)
      : ttl_(ttl), capacity_(capacity) {}
  // The fresh entry for `id`, or null. Valid until the next call.
  const entry* find(const std::string& id);
  void put(const model::video& v, http::file_info f);
  void invalidate(const std::string& id) { entries_.erase(id); }
  // Changes may have been missed (another node's, while Redis was down).
  void clear() { entries_.clear(); }

 private:
  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  std::unordered_map<std::string, entry> entries_;
};

// Recently answered video lists, by organization and query, as the JSON
// sent: a burst of identical list requests (clients polling a library)
// costs one query. Any event of an organization (created, progress,
// updated, deleted, ...) drops its entries at once, so a client sees its own
// changes; `ttl` bounds how stale a list can be after changes this process
// hears nothing of (a separate `reel worker`). 0 disables. Loop thread only.
class list_cache {
 public:
  explicit list_cache(std::chrono::milliseconds ttl = std::chrono::seconds(1), std::size_t capacity = 2'000)
      : ttl_(ttl), capacity_(capacity) {}
  // The organization's current generation: take it before querying.
  std::uint64_t generation(const std::string& org) const;
  // The body stored for `key`, if it is fresh and no change came since.
  const std::string* find(const std::string& key, const std::string& org);
  // Stores a body computed from data read at `generation`.
  void put(const std::string& key, const std::string& org, std::uint64_t generation, std::string body);
  // Something in `org` changed.
  void changed(const std::string& org) { ++generations_[org]; }
  // Changes may have been missed (another node's, while Redis was down):
  // everything cached, and every query under way, is stale.
  void clear() {
    ++epoch_;
    entries_.clear();
  }
  bool enabled() const noexcept { return ttl_.count() > 0; }

 private:
  struct entry {
    std::string org, body;
    std::uint64_t generation;
    std::chrono::steady_clock::time_point until;
  };
  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  std::unordered_map<std::string, entry> entries_;
  std::unordered_map<std::string, std::uint64_t> generations_;
  std::uint64_t epoch_ = 0;
};

}  // namespace reel::api
