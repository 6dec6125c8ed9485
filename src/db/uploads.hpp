// Repository of resumable (tus) uploads: how many bytes of each are stored
// durably, and until when an unfinished one is kept. Each function runs
// inside the caller's transaction.
#pragma once

#include "db/database.hpp"
#include "model/videos.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

using model::upload;

void insert_upload(transaction& s, const upload& u);
std::optional<upload> find_upload(transaction& s, const std::string& id);
// Records newly stored bytes and pushes the expiry back; false when the
// upload no longer exists.
bool set_upload_received(transaction& s, const std::string& id, std::int64_t received, const std::string& now,
                         const std::string& expires_at);
// All bytes are stored: the upload is complete; its record is kept until `expires_at`
// so that a client resuming it learns it is done.
void complete_upload(transaction& s, const std::string& id, const std::string& now, const std::string& expires_at);
void delete_upload(transaction& s, const std::string& id);
// Forgets the uploads of a video (its file is gone: no resuming).
void delete_uploads_of_video(transaction& s, const std::string& video_id);
// Uploads whose expiry is before `now`, oldest first.
std::vector<upload> expired_uploads(transaction& s, const std::string& now, int limit);

}  // namespace reel::db
