// Videos: adding an uploaded file, listing, reading, renaming, deleting and
// reprocessing them, and who may play them. Each change is written in one
// transaction (with the processing job when there is one) and then
// published as an event to the organization. Coroutines on the loop
// thread; the database and the files run on the pool.
#pragma once

#include "core/clock.hpp"
#include "core/events.hpp"
#include "core/offload.hpp"
#include "db/quotas.hpp"
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
namespace reel::auth {
class playback_signer;
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
  // Signs and checks playback links; null: no links (a worker process).
  const auth::playback_signer* links = nullptr;
};

// Who asks to play a video, and with what.
struct viewer_access {
  const model::principal* who = nullptr;  // null: nobody signed in
  std::string_view named_org;             // the X-Organization-Id header ("" when absent)
  std::optional<std::string_view> token;  // a playback link's ?token=
};

// Why a viewer may play a video: they are a member of its organization, it
// is public or unlisted, or they hold a signed link to it.
enum class granted_by { membership, visibility, link };

struct playback {
  model::video video;
  granted_by by = granted_by::membership;
};

// A signed playback link: its token and when it expires.
struct playback_link {
  std::string token;
  sys_time expires_at;
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
    model::visibility visibility = model::visibility::private_;
  };
  // The complete upload in `file` becomes the original of a new `queued`
  // video in `in`, with its processing job; publishes video:created.
  boost::asio::awaitable<model::video> add(const model::principal& who, const model::org_scope& in,
                                           storage::temp_file& file, const new_video& fields);

  // Before an upload of `declared` bytes to `in` writes anything: the
  // organization's storage usage, or error(payload_too_large) "storage
  // quota exceeded: X of Y used" when they would not fit (domain/quotas.hpp;
  // add() charges the file's size for good).
  boost::asio::awaitable<db::storage_usage> check_storage_room(const model::org_scope& in, std::int64_t declared);

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
  // What update changes: the fields given.
  struct changes {
    std::optional<std::string> title, description;
    std::optional<model::visibility> visibility;
  };
  // Changes the title, description and/or visibility; publishes video:updated.
  boost::asio::awaitable<model::video> update(const model::org_scope& in, const std::string& id, const changes& c);
  // Deletes the video: its row, its processing (the ffmpeg is stopped) and
  // its files; publishes video:deleted.
  boost::asio::awaitable<void> remove(const model::org_scope& in, const std::string& id);
  // Processes the video again (not while uploading or already being
  // processed: error(conflict)); publishes video:updated.
  boost::asio::awaitable<model::video> reprocess(const model::org_scope& in, const std::string& id);

  // The video `id` if `a` may play it and it is ready, and why:
  // error(forbidden) for a playback link that is not valid (expired: "The
  // playback link expired.") unless the caller is a member; error(not_found)
  // for an unknown id or one they may not see; error(conflict) while it is
  // not ready. With `early`, a video being processed whose early rendition
  // plays (docs/API.md "Early playback") is playable too.
  boost::asio::awaitable<playback> playable(const viewer_access& a, const std::string& id, bool early = false);
  // Why `a` may play `v` (a video read earlier, e.g. cached), or nullopt;
  // throws as playable() for a bad link.
  std::optional<granted_by> may_play(const viewer_access& a, const model::video& v) const;

  // A signed link to play the video `id` of `in` for `lifetime` (viewer+).
  boost::asio::awaitable<playback_link> sign_link(const model::org_scope& in, const std::string& id,
                                                  std::chrono::seconds lifetime);

  // Called right after a change to a video is written (update, delete,
  // reprocess), before the rest of the work: caches of the video drop it.
  std::function<void(const std::string& video_id)> on_video_changed;

 private:
  void changed(const std::string& id) const;

  video_context c_;
};

}  // namespace reel::domain
