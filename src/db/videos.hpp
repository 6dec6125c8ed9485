// Repository of the videos aggregate and the job rows that process them.
// Each function runs inside the caller's transaction.
#pragma once

#include "db/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

struct video {
  std::string id, organization_id, title, description, status;
  std::optional<std::string> progress_stage;
  std::optional<double> progress_percent;
  std::optional<std::string> error;
  std::string original_filename, content_type;
  std::int64_t size_bytes = 0;
  std::optional<double> duration_sec;
  std::optional<std::int64_t> width, height;
  std::optional<std::string> video_codec, audio_codec;
  std::string renditions = "[]";  // JSON array
  std::optional<std::string> created_by;
  std::string created_at, updated_at;
  std::optional<std::string> ready_at;
};

struct job {
  std::string id, kind, organization_id;
  std::optional<std::string> video_id;
  std::string state = "queued";
  std::int64_t attempts = 0, max_attempts = 3;
  std::string run_after;
  std::optional<std::string> lease_owner, lease_expires_at, last_error;
  std::string created_at, updated_at;
};

void insert_video(transaction& s, const video& v);
void insert_job(transaction& s, const job& j);

// The video `id` in organization `org_id` (nullopt for another tenant's).
std::optional<video> find_video(transaction& s, const std::string& org_id, const std::string& id);
// The video `id` in any organization (callers check membership).
std::optional<video> find_video_any_org(transaction& s, const std::string& id);

struct video_page_cursor {
  std::string created_at, id;
};
// Newest first; `after` continues a previous page. Returns up to `limit` + 1
// rows so the caller can tell whether there is a next page.
std::vector<video> list_videos(transaction& s, const std::string& org_id, const std::optional<std::string>& status,
                               const std::optional<video_page_cursor>& after, int limit);

bool update_video_text(transaction& s, const std::string& org_id, const std::string& id,
                       const std::optional<std::string>& title, const std::optional<std::string>& description,
                       const std::string& now);
bool delete_video(transaction& s, const std::string& org_id, const std::string& id);

}  // namespace reel::db
