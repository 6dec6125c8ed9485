// Videos: adding an uploaded file, listing, reading, renaming, deleting and
// reprocessing them, and who may play them. Each change is written in one
// transaction (with the processing job when there is one) and then
// published as an event to the organization. Coroutines on the loop
// thread; the database and the files run on the pool.
#pragma once

#include "core/clock.hpp"
#include "core/events.hpp"
#include "core/offload.hpp"
#include "model/principal.hpp"
#include "model/videos.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reel::db {
class gateway;
class transaction;
}  // namespace reel::db
namespace reel::storage {
class layout;
class temp_file;
}  // namespace reel::storage
namespace reel::jobs {
class processor;
}

namespace reel::domain {

// What videos need around them.
struct video_context {
  db::gateway& db;
  worker_pool& pool;
  const storage::layout& files;
  const clock& time;
  event_hub& hub;
  jobs::processor& processor;
  int max_job_attempts = 3;
};

// Runs `record` (a write transaction); when it fails, removes `dir` (made
// for the record just before) and rethrows: a failed insert leaves no files.
boost::asio::awaitable<void> record_or_remove(video_context& c, const std::filesystem::path& dir,
                                              const std::function<void(db::transaction&)>& record);

class videos {
 public:
  explicit videos(video_context c) : c_(c) {}

  // A new video's text, cleaned and validated by the caller.
  struct new_video {
    std::string title, description, original_filename, content_type;
  };
  // The complete upload in `file` becomes the original of a new `queued`
  // video in `in`, with its processing job; publishes video:created.
  boost::asio::awaitable<model::video> add(const model::principal& who, const model::org_scope& in,
                                           storage::temp_file& file, const new_video& fields);

  struct list_query {
    std::optional<model::video_status> status;
    std::optional<model::video_cursor> after;
    int limit = 20;
  };
  // Turns up to limit + 1 rows (newest first) into the answer; runs on the
  // pool, inside the read, so that the loop only sends the result.
  using page_renderer = std::function<std::string(const std::vector<model::video>& rows)>;
  boost::asio::awaitable<std::string> list(const model::org_scope& in, const list_query& q,
                                           const page_renderer& render);

  // error(not_found) for an unknown id or another organization's video.
  boost::asio::awaitable<model::video> get(const model::org_scope& in, const std::string& id);
  // Changes the title and/or description; publishes video:updated.
  boost::asio::awaitable<model::video> update_text(const model::org_scope& in, const std::string& id,
                                                   const std::optional<std::string>& title,
                                                   const std::optional<std::string>& description);
  // Deletes the video: its row, its processing (the ffmpeg is stopped) and
  // its files; publishes video:deleted.
  boost::asio::awaitable<void> remove(const model::org_scope& in, const std::string& id);
  // Processes the video again (not while uploading or already being
  // processed: error(conflict)); publishes video:updated.
  boost::asio::awaitable<model::video> reprocess(const model::org_scope& in, const std::string& id);

  // The video `id` if `who` may play it and it is ready: error(not_found)
  // for an unknown id or one they may not see, error(conflict) while it is
  // not ready. `named_org`: the X-Organization-Id header ("" when absent).
  boost::asio::awaitable<model::video> playable(const model::principal& who, std::string_view named_org,
                                                const std::string& id);
  // Whether `who` may play `v` (a video read earlier, e.g. cached).
  static bool may_play(const model::principal& who, std::string_view named_org, const model::video& v);

  // Called right after a change to a video is written (update, delete,
  // reprocess), before the rest of the work: caches of the video drop it.
  std::function<void(const std::string& video_id)> on_video_changed;

 private:
  void changed(const std::string& id) const;

  video_context c_;
};

}  // namespace reel::domain
