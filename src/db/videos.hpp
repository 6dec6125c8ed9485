// Repository of the videos aggregate and the job rows that process them.
// Each function runs inside the caller's transaction.
#pragma once

#include "db/database.hpp"
#include "model/videos.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

using model::job;
using model::video;

void insert_video(transaction& s, const video& v);
void insert_job(transaction& s, const job& j);

// The video `id` in organization `org_id` (nullopt for another tenant's).
std::optional<video> find_video(transaction& s, const std::string& org_id, const std::string& id);
// The video `id` in any organization (callers check membership).
std::optional<video> find_video_any_org(transaction& s, const std::string& id);

// Newest first; `after` continues a previous page. Returns up to `limit` + 1
// rows so the caller can tell whether there is a next page. One statement:
// it may run as a database::read_statement.
std::vector<video> list_videos(transaction& s, const std::string& org_id,
                               const std::optional<model::video_status>& status,
                               const std::optional<model::video_cursor>& after, int limit);
// The same into `into`, whose rows (and their strings' storage) it reuses:
// a thread that lists again and again allocates almost nothing.
void list_videos(transaction& s, const std::string& org_id, const std::optional<model::video_status>& status,
                 const std::optional<model::video_cursor>& after, int limit, std::vector<video>& into);

bool update_video_text(transaction& s, const std::string& org_id, const std::string& id,
                       const std::optional<std::string>& title, const std::optional<std::string>& description,
                       const std::string& now);
bool set_video_visibility(transaction& s, const std::string& org_id, const std::string& id, model::visibility v,
                          const std::string& now);
// Records the video's chosen poster (a frame at `time`, an uploaded
// `image`, or neither: the automatic frame) and counts one more change of
// it (poster_version).
void set_video_poster(transaction& s, const std::string& id, const std::optional<double>& time, bool image,
                      const std::string& now);
// The organization's public, ready videos, newest first; as list_videos.
std::vector<video> list_public_videos(transaction& s, const std::string& org_id,
                                      const std::optional<model::video_cursor>& after, int limit);
// Holds the video's row until the transaction ends (reprocessing checks, then
// writes). A no-op where write transactions run one at a time (SQLite).
void lock_video(transaction& s, const std::string& id);
// Deletes the video's row (its jobs and upload go with it) and releases its
// bytes (original and outputs) from the organization's storage usage.
bool delete_video(transaction& s, const std::string& org_id, const std::string& id);

// Every video, in id order from after `after_id` ("" for the start), up to
// `limit` of them (the reconciliation sweep pages through them all).
std::vector<video> videos_after(transaction& s, const std::string& after_id, int limit);
// Ends the video's queued or running jobs as failed with `reason` (a worker
// holding one loses its lease and stops). Returns how many.
std::int64_t fail_active_jobs(transaction& s, const std::string& video_id, const std::string& reason,
                              const std::string& now);

}  // namespace reel::db
