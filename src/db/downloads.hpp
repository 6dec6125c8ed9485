// Repository of what recording a download (an MP4 made from an HLS rung,
// docs/api-downloads.md) changes: the video's outputs_bytes, so that its
// organization's storage usage counts the file. Each function runs inside
// the caller's transaction.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <string>

namespace reel::db {

// Whether the video `video_id` is ready with these outputs (`ready_at`, as
// read before the file was made): its row is locked for the rest of the
// transaction (PostgreSQL), so a reprocess or a delete waits.
bool lock_ready_video(transaction& s, const std::string& video_id, const std::string& ready_at);

// Adds `bytes` to the video's outputs_bytes (a NULL count becomes `bytes`).
void add_video_outputs_bytes(transaction& s, const std::string& video_id, std::int64_t bytes);

}  // namespace reel::db
