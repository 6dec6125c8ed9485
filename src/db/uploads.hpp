// Repository of resumable (tus) uploads: how many bytes of each are stored
// durably, and until when an unfinished one is kept. Each function runs
// inside the caller's transaction.
#pragma once

#include "db/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

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
// Uploads whose expiry is before `now`, oldest first.
std::vector<upload> expired_uploads(transaction& s, const std::string& now, int limit);

}  // namespace reel::db
