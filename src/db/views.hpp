// Repository of views: who was counted for which video lately
// (video_viewers), the views per video and UTC day (video_view_days), and
// the total on the video's row (videos.view_count). Each function runs
// inside the caller's transaction. Times are to_iso8601 text, days
// "YYYY-MM-DD"; both sort as text.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reel::db {

// Counts one view of `video_id` by `viewer` at `now` on `day`, unless the
// viewer was counted for it after `again_after` (now minus the window):
// then nothing changes. When counted: the viewer's row says `now`, the
// video's view_count and the day's views grow by one. Returns whether it
// counted; false too when the video does not exist (any more). Safe against
// the same viewer's plays in concurrent transactions on PostgreSQL: the
// conditional upsert lets exactly one of them count. Use a write transaction.
bool count_view(transaction& s, const std::string& video_id, const std::string& viewer, const std::string& now,
                const std::string& again_after, const std::string& day);

// The days from `first_day` on with views of the video, oldest first.
std::vector<std::pair<std::string, std::int64_t>> view_days(transaction& s, const std::string& video_id,
                                                            const std::string& first_day);

// Forgets viewers last counted before `before` (they would count again
// anyway). Returns how many rows went.
std::int64_t forget_viewers(transaction& s, const std::string& before);
// Deletes the per-day counts of days before `first_kept_day`. Returns how many rows went.
std::int64_t forget_view_days(transaction& s, const std::string& first_kept_day);

}  // namespace reel::db
