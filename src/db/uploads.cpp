#include "db/uploads.hpp"

#include "db/webhooks.hpp"

namespace reel::db {

namespace {

#define REEL_UPLOAD_COLUMNS                                                                                     \
  "id, organization_id, video_id, created_by, length, received, metadata, created_at, updated_at, expires_at, " \
  "completed_at"

constexpr const char* k_insert_uploads =
    "INSERT INTO uploads (" REEL_UPLOAD_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* k_find = "SELECT " REEL_UPLOAD_COLUMNS " FROM uploads WHERE id = ?";
constexpr const char* k_set_received = "UPDATE uploads SET received = ?, updated_at = ?, expires_at = ? WHERE id = ?";
constexpr const char* k_complete =
    "UPDATE uploads SET received = length, completed_at = ?, updated_at = ?, expires_at = ? WHERE id = ?";
constexpr const char* k_delete_uploads = "DELETE FROM uploads WHERE id = ?";
constexpr const char* k_delete_of_video = "DELETE FROM uploads WHERE video_id = ?";
constexpr const char* k_expired =
    "SELECT " REEL_UPLOAD_COLUMNS " FROM uploads WHERE expires_at < ? ORDER BY expires_at LIMIT ?";

#undef REEL_UPLOAD_COLUMNS

upload to_upload(const row& r) {
  upload u;
  u.id = r.text(0);
  u.organization_id = r.text(1);
  u.video_id = r.text(2);
  u.created_by = r.opt_text(3);
  u.length = r.int64(4);
  u.received = r.int64(5);
  u.metadata = r.text(6);
  u.created_at = r.text(7);
  u.updated_at = r.text(8);
  u.expires_at = r.text(9);
  u.completed_at = r.opt_text(10);
  return u;
}

}  // namespace

void insert_upload(transaction& s, const upload& u) {
  s.exec(k_insert_uploads, {u.id, u.organization_id, u.video_id, u.created_by, u.length, u.received, u.metadata,
                            u.created_at, u.updated_at, u.expires_at, u.completed_at});
}

std::optional<upload> find_upload(transaction& s, const std::string& id) {
  auto r = s.query_one(k_find, {id});
  if (!r) return std::nullopt;
  return to_upload(*r);
}

bool set_upload_received(transaction& s, const std::string& id, std::int64_t received, const std::string& now,
                         const std::string& expires_at) {
  return s.exec(k_set_received, {received, now, expires_at, id}) > 0;
}

void complete_upload(transaction& s, const std::string& id, const std::string& now, const std::string& expires_at) {
  s.exec(k_complete, {now, now, expires_at, id});
  if (auto u = find_upload(s, id)) record_video_event(s, u->video_id, "video.uploaded", now);
}

void delete_upload(transaction& s, const std::string& id) { s.exec(k_delete_uploads, {id}); }

void delete_uploads_of_video(transaction& s, const std::string& video_id) { s.exec(k_delete_of_video, {video_id}); }

std::vector<upload> expired_uploads(transaction& s, const std::string& now, int limit) {
  std::vector<upload> out;
  for (const auto& r : s.query(k_expired, {now, limit})) out.push_back(to_upload(r));
  return out;
}

}  // namespace reel::db
