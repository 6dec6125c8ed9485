#include "db/videos.hpp"

#include "core/clock.hpp"
#include "db/columns.hpp"
#include "db/jobs.hpp"
#include "db/quotas.hpp"
#include "db/webhooks.hpp"

namespace reel::db {

namespace {

#define REEL_VIDEO_COLUMNS                                                                                        \
  "id, organization_id, title, description, status, progress_stage, progress_percent, error, original_filename, " \
  "content_type, size_bytes, duration_sec, width, height, video_codec, audio_codec, renditions, created_by, "     \
  "created_at, updated_at, ready_at, visibility, view_count, outputs_bytes, poster_time, poster_image, "          \
  "poster_version, playable_at"

constexpr const char* k_insert_video =
    "INSERT INTO videos (" REEL_VIDEO_COLUMNS
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* k_insert_job =
    "INSERT INTO jobs (id, kind, organization_id, video_id, state, attempts, max_attempts, run_after, lease_owner, "
    "lease_expires_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* k_find_video = "SELECT " REEL_VIDEO_COLUMNS " FROM videos WHERE organization_id = ? AND id = ?";
constexpr const char* k_find_video_any = "SELECT " REEL_VIDEO_COLUMNS " FROM videos WHERE id = ?";
constexpr const char* k_list_videos =
    "SELECT " REEL_VIDEO_COLUMNS " FROM videos WHERE organization_id = ? ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_list_after =
    "SELECT " REEL_VIDEO_COLUMNS
    " FROM videos WHERE organization_id = ? AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_list_status =
    "SELECT " REEL_VIDEO_COLUMNS
    " FROM videos WHERE organization_id = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_list_status_after =
    "SELECT " REEL_VIDEO_COLUMNS
    " FROM videos WHERE organization_id = ? AND status = ? AND (created_at, id) < (?, ?) "
    "ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_update_text =
    "UPDATE videos SET title = COALESCE(?, title), description = COALESCE(?, description), updated_at = ? "
    "WHERE organization_id = ? AND id = ?";
constexpr const char* k_set_visibility =
    "UPDATE videos SET visibility = ?, updated_at = ? WHERE organization_id = ? AND id = ?";
constexpr const char* k_set_poster =
    "UPDATE videos SET poster_time = ?, poster_image = ?, poster_version = poster_version + 1, updated_at = ? "
    "WHERE id = ?";
constexpr const char* k_list_public =
    "SELECT " REEL_VIDEO_COLUMNS
    " FROM videos WHERE organization_id = ? AND visibility = 'public' AND status = 'ready' "
    "ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_list_public_after = "SELECT " REEL_VIDEO_COLUMNS
                                            " FROM videos WHERE organization_id = ? AND visibility = 'public' AND "
                                            "status = 'ready' AND (created_at, id) < (?, ?) "
                                            "ORDER BY created_at DESC, id DESC LIMIT ?";
constexpr const char* k_video_bytes =
    "SELECT size_bytes + COALESCE(outputs_bytes, 0) FROM videos WHERE organization_id = ? AND id = ?";
constexpr const char* k_delete_video = "DELETE FROM videos WHERE organization_id = ? AND id = ?";
constexpr const char* k_videos_after = "SELECT " REEL_VIDEO_COLUMNS " FROM videos WHERE id > ? ORDER BY id LIMIT ?";
constexpr const char* k_fail_active_jobs =
    "UPDATE jobs SET state = 'failed', last_error = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? "
    "WHERE video_id = ? AND state IN ('queued', 'running')";

#undef REEL_VIDEO_COLUMNS

// Every field of `v` from the row, reusing the storage `v`'s strings hold.
void read_video(const row_view& r, video& v) {
  r.read_text(0, v.id);
  r.read_text(1, v.organization_id);
  r.read_text(2, v.title);
  r.read_text(3, v.description);
  v.status = status_column(r, 4);
  r.read_opt_text(5, v.progress_stage);
  v.progress_percent = r.opt_real(6);
  r.read_opt_text(7, v.error);
  r.read_text(8, v.original_filename);
  r.read_text(9, v.content_type);
  v.size_bytes = r.int64(10);
  v.duration_sec = r.opt_real(11);
  v.width = r.opt_int64(12);
  v.height = r.opt_int64(13);
  r.read_opt_text(14, v.video_codec);
  r.read_opt_text(15, v.audio_codec);
  r.read_text(16, v.renditions);
  r.read_opt_text(17, v.created_by);
  r.read_text(18, v.created_at);
  r.read_text(19, v.updated_at);
  r.read_opt_text(20, v.ready_at);
  v.visibility = enum_column<model::visibility>(r, 21, model::parse_visibility, "visibility");
  v.view_count = r.int64(22);
  v.outputs_bytes = r.opt_int64(23);
  v.poster_time = r.opt_real(24);
  v.poster_image = r.int64(25) != 0;
  v.poster_version = r.int64(26);
  r.read_opt_text(27, v.playable_at);
}

video to_video(const row_view& r) {
  video v;
  read_video(r, v);
  return v;
}

// The videos of one query, read in place into `out`: its first rows are
// overwritten (their strings keep their storage), then it grows or shrinks
// to the result's size.
void query_videos(transaction& s, std::string_view sql, std::initializer_list<value> params, std::size_t expected,
                  std::vector<video>& out) {
  out.reserve(expected);
  std::size_t n = 0;
  s.query_each(sql, params, [&out, &n](const row_view& r) {
    if (n < out.size())
      read_video(r, out[n]);
    else
      out.push_back(to_video(r));
    ++n;
  });
  out.resize(n);
}

std::vector<video> query_videos(transaction& s, std::string_view sql, std::initializer_list<value> params,
                                std::size_t expected) {
  std::vector<video> out;
  query_videos(s, sql, params, expected, out);
  return out;
}

}  // namespace

void insert_video(transaction& s, const video& v) {
  s.exec(k_insert_video, {v.id,
                          v.organization_id,
                          v.title,
                          v.description,
                          model::status_name(v.status),
                          v.progress_stage,
                          v.progress_percent,
                          v.error,
                          v.original_filename,
                          v.content_type,
                          v.size_bytes,
                          v.duration_sec,
                          v.width,
                          v.height,
                          v.video_codec,
                          v.audio_codec,
                          v.renditions,
                          v.created_by,
                          v.created_at,
                          v.updated_at,
                          v.ready_at,
                          model::visibility_name(v.visibility),
                          v.view_count,
                          v.outputs_bytes,
                          v.poster_time,
                          std::int64_t{v.poster_image ? 1 : 0},
                          v.poster_version,
                          v.playable_at});
  record_video_event(s, v, "video.created", v.created_at);
  if (v.status != model::video_status::uploading) record_video_event(s, v, "video.uploaded", v.created_at);
}

void insert_job(transaction& s, const job& j) {
  s.exec(k_insert_job,
         {j.id, j.kind, j.organization_id, j.video_id, model::state_name(j.state), j.attempts, j.max_attempts,
          j.run_after, j.lease_owner, j.lease_expires_at, j.last_error, j.created_at, j.updated_at});
  if (j.state == model::job_state::queued) announce_job(s);  // other processes' workers wake at the commit
}

std::optional<video> find_video(transaction& s, const std::string& org_id, const std::string& id) {
  auto r = s.query_one(k_find_video, {org_id, id});
  if (!r) return std::nullopt;
  return to_video(row_ref(*r));
}

std::optional<video> find_video_any_org(transaction& s, const std::string& id) {
  auto r = s.query_one(k_find_video_any, {id});
  if (!r) return std::nullopt;
  return to_video(row_ref(*r));
}

void list_videos(transaction& s, const std::string& org_id, const std::optional<model::video_status>& status,
                 const std::optional<model::video_cursor>& after, int limit, std::vector<video>& into) {
  int n = limit + 1;
  auto size = static_cast<std::size_t>(n);
  if (status && after)
    query_videos(s, k_list_status_after, {org_id, model::status_name(*status), after->created_at, after->id, n}, size,
                 into);
  else if (status)
    query_videos(s, k_list_status, {org_id, model::status_name(*status), n}, size, into);
  else if (after)
    query_videos(s, k_list_after, {org_id, after->created_at, after->id, n}, size, into);
  else
    query_videos(s, k_list_videos, {org_id, n}, size, into);
}

std::vector<video> list_videos(transaction& s, const std::string& org_id,
                               const std::optional<model::video_status>& status,
                               const std::optional<model::video_cursor>& after, int limit) {
  std::vector<video> out;
  list_videos(s, org_id, status, after, limit, out);
  return out;
}

bool update_video_text(transaction& s, const std::string& org_id, const std::string& id,
                       const std::optional<std::string>& title, const std::optional<std::string>& description,
                       const std::string& now) {
  return s.exec(k_update_text, {title, description, now, org_id, id}) > 0;
}

bool set_video_visibility(transaction& s, const std::string& org_id, const std::string& id, model::visibility v,
                          const std::string& now) {
  return s.exec(k_set_visibility, {model::visibility_name(v), now, org_id, id}) > 0;
}

void set_video_poster(transaction& s, const std::string& id, const std::optional<double>& time, bool image,
                      const std::string& now) {
  s.exec(k_set_poster, {time, std::int64_t{image ? 1 : 0}, now, id});
}

std::vector<video> list_public_videos(transaction& s, const std::string& org_id,
                                      const std::optional<model::video_cursor>& after, int limit) {
  auto size = static_cast<std::size_t>(limit + 1);
  if (after) return query_videos(s, k_list_public_after, {org_id, after->created_at, after->id, limit + 1}, size);
  return query_videos(s, k_list_public, {org_id, limit + 1}, size);
}

void lock_video(transaction& s, const std::string& id) {
  if (s.locks_rows()) s.query("SELECT id FROM videos WHERE id = ? FOR UPDATE", {id});
}

bool delete_video(transaction& s, const std::string& org_id, const std::string& id) {
  auto bytes = s.query_one(k_video_bytes, {org_id, id});
  if (!bytes) return false;
  auto gone = find_video(s, org_id, id);  // for its webhook
  if (s.exec(k_delete_video, {org_id, id}) == 0) return false;
  adjust_storage(s, org_id, -bytes->int64(0));
  if (gone) record_video_event(s, *gone, "video.deleted", to_iso8601(std::chrono::system_clock::now()));
  return true;
}

}  // namespace reel::db

namespace reel::db {

std::vector<video> videos_after(transaction& s, const std::string& after_id, int limit) {
  return query_videos(s, k_videos_after, {after_id, limit}, static_cast<std::size_t>(limit));
}

std::int64_t fail_active_jobs(transaction& s, const std::string& video_id, const std::string& reason,
                              const std::string& now) {
  return s.exec(k_fail_active_jobs, {reason, now, video_id});
}

}  // namespace reel::db
