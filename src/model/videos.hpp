// The video records: a video, the jobs that process it, and the resumable
// upload that brings its bytes. Plain values: the database (src/db) stores
// them, the domain (src/domain) decides what may happen to them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::model {

// uploading → queued → processing → ready | failed (and back to queued on a
// retry or a reprocess).
enum class video_status { uploading, queued, processing, ready, failed };

// The wire and database names ("uploading", ...); nullopt for anything else.
std::optional<video_status> parse_video_status(std::string_view text) noexcept;
std::string_view status_name(video_status s) noexcept;

// Who may play a video besides the organization's members: nobody
// (private, the default), anyone with its link (unlisted), anyone (public:
// also listed on the organization's public page).
enum class visibility { private_, unlisted, public_ };

std::optional<visibility> parse_visibility(std::string_view text) noexcept;
std::string_view visibility_name(visibility v) noexcept;

struct video {
  std::string id, organization_id, title, description;
  video_status status = video_status::queued;
  model::visibility visibility = visibility::private_;
  std::int64_t view_count = 0;
  std::optional<std::string> progress_stage;
  std::optional<double> progress_percent;
  std::optional<std::string> error;
  std::string original_filename, content_type;
  std::int64_t size_bytes = 0;
  std::optional<double> duration_sec;
  std::optional<std::int64_t> width, height;
  std::optional<std::string> video_codec, audio_codec;
  std::string renditions = "[]";  // JSON array
  // Bytes of the processing outputs on disk, as measured when they were
  // stored (nullopt: not measured, a video from before migration 11).
  std::optional<std::int64_t> outputs_bytes = 0;
  // The chosen poster: a frame at poster_time, or an uploaded image
  // (poster_image); neither: the automatic frame. poster_version counts the
  // changes.
  std::optional<double> poster_time;
  bool poster_image = false;
  std::int64_t poster_version = 0;
  // When the video could first be played (docs/API.md "Early playback"):
  // set while processing once an early rendition exists, kept at ready.
  std::optional<std::string> playable_at;
  std::optional<std::string> created_by;
  std::string created_at, updated_at;
  std::optional<std::string> ready_at;
};

// Where a page of a video list (newest first) continues: after this video.
struct video_cursor {
  std::string created_at, id;
};

// queued → running → succeeded | failed | cancelled (and back to queued on a retry).
enum class job_state { queued, running, succeeded, failed, cancelled };

std::optional<job_state> parse_job_state(std::string_view text) noexcept;
std::string_view state_name(job_state s) noexcept;

// The one kind of job there is today.
inline constexpr std::string_view k_process_video = "process_video";

struct job {
  std::string id, kind, organization_id;
  std::optional<std::string> video_id;
  job_state state = job_state::queued;
  std::int64_t attempts = 0, max_attempts = 3;
  std::int64_t takeovers = 0;         // runs whose worker died (not attempts)
  std::int64_t resource_retries = 0;  // runs put back for a resource (not attempts)
  std::string run_after;
  std::optional<std::string> lease_owner, lease_expires_at, last_error;
  std::string created_at, updated_at;
};

// A resumable (tus) upload: how many bytes of its video's file are stored durably.
struct upload {
  std::string id, organization_id, video_id;
  std::optional<std::string> created_by;
  std::int64_t length = 0;
  // Bytes stored and fsynced: the offset the client resumes from.
  std::int64_t received = 0;
  // The Upload-Metadata header as the client sent it (echoed on HEAD).
  std::string metadata;
  std::string created_at, updated_at, expires_at;
  std::optional<std::string> completed_at;
};

}  // namespace reel::model
