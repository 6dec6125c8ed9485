// What the public sees of an organization without signing in: its embedding
// rules and its public videos (docs/api-pages.md). Coroutines on the loop
// thread; the database runs on the pool.
#pragma once

#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

class sharing {
 public:
  explicit sharing(db::gateway& db) : db_(db) {}

  // The organization `org_id` (a video's own, for its embedding origins):
  // error(not_found) when it is gone.
  boost::asio::awaitable<model::organization> organization(const std::string& org_id);

  // Turns up to limit + 1 rows (newest first) into the answer, on the pool.
  using page_renderer = std::function<std::string(const std::vector<model::video>& rows)>;
  // The organization's public and ready videos, newest first, after `after`.
  boost::asio::awaitable<std::string> public_videos(const std::string& org_id,
                                                    const std::optional<model::video_cursor>& after, int limit,
                                                    const page_renderer& render);

 private:
  db::gateway& db_;
};

}  // namespace reel::domain
