#include "db/views.hpp"

namespace reel::db {

namespace {

// Inserts the viewer, or moves their time forward when the last count is
// older than the window; changes no row (0) otherwise, or when the video is
// gone. (SQLite reads `INSERT ... SELECT ... ON CONFLICT` only with a WHERE
// in the SELECT, which this one has.) On PostgreSQL a concurrent insert or
// update of the same key waits for the other transaction and then sees its
// row: the second play within the window changes nothing.
constexpr const char* k_upsert_viewer =
    "INSERT INTO video_viewers (video_id, viewer, counted_at) SELECT ?, ?, ? "
    "WHERE EXISTS (SELECT 1 FROM videos WHERE id = ?) "
    "ON CONFLICT (video_id, viewer) DO UPDATE SET counted_at = excluded.counted_at "
    "WHERE video_viewers.counted_at <= ?";
constexpr const char* k_add_to_total = "UPDATE videos SET view_count = view_count + 1 WHERE id = ?";
constexpr const char* k_add_to_day =
    "INSERT INTO video_view_days (video_id, day, views) VALUES (?, ?, 1) "
    "ON CONFLICT (video_id, day) DO UPDATE SET views = video_view_days.views + 1";
constexpr const char* k_view_days =
    "SELECT day, views FROM video_view_days WHERE video_id = ? AND day >= ? ORDER BY day";
constexpr const char* k_forget_viewers = "DELETE FROM video_viewers WHERE counted_at < ?";
constexpr const char* k_forget_days = "DELETE FROM video_view_days WHERE day < ?";

}  // namespace

bool count_view(transaction& s, const std::string& video_id, const std::string& viewer, const std::string& now,
                const std::string& again_after, const std::string& day) {
  if (s.exec(k_upsert_viewer, {video_id, viewer, now, video_id, again_after}) == 0) return false;
  s.exec(k_add_to_total, {video_id});
  s.exec(k_add_to_day, {video_id, day});
  return true;
}

std::vector<std::pair<std::string, std::int64_t>> view_days(transaction& s, const std::string& video_id,
                                                            const std::string& first_day) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& r : s.query(k_view_days, {video_id, first_day})) out.emplace_back(r.text(0), r.int64(1));
  return out;
}

std::int64_t forget_viewers(transaction& s, const std::string& before) { return s.exec(k_forget_viewers, {before}); }

std::int64_t forget_view_days(transaction& s, const std::string& first_kept_day) {
  return s.exec(k_forget_days, {first_kept_day});
}

}  // namespace reel::db
