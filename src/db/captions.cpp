#include "db/captions.hpp"

namespace reel::db {

namespace {

constexpr const char* k_list_captions =
    "SELECT video_id, language, label, size_bytes, created_at, updated_at FROM captions WHERE video_id = ? "
    "ORDER BY language";
constexpr const char* k_text = "SELECT vtt FROM captions WHERE video_id = ? AND language = ?";
constexpr const char* k_insert_captions =
    "INSERT INTO captions (video_id, language, label, vtt, size_bytes, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (video_id, language) DO NOTHING";
constexpr const char* k_replace =
    "UPDATE captions SET label = COALESCE(?, label), vtt = ?, size_bytes = ?, updated_at = ? "
    "WHERE video_id = ? AND language = ?";
constexpr const char* k_delete_captions = "DELETE FROM captions WHERE video_id = ? AND language = ?";

}  // namespace

std::vector<caption_entry> list_captions(transaction& s, const std::string& video_id) {
  std::vector<caption_entry> out;
  for (const auto& r : s.query(k_list_captions, {video_id}))
    out.push_back({r.text(0), r.text(1), r.text(2), r.int64(3), r.text(4), r.text(5)});
  return out;
}

std::optional<std::string> caption_text(transaction& s, const std::string& video_id, const std::string& language) {
  auto r = s.query_one(k_text, {video_id, language});
  if (!r) return std::nullopt;
  return r->text(0);
}

bool insert_caption(transaction& s, const caption_entry& e, const std::string& vtt) {
  return s.exec(k_insert_captions, {e.video_id, e.language, e.label, vtt, e.size_bytes, e.created_at, e.updated_at}) >
         0;
}

bool replace_caption(transaction& s, const caption_entry& e, const std::optional<std::string>& label,
                     const std::string& vtt) {
  return s.exec(k_replace, {value(label), vtt, e.size_bytes, e.updated_at, e.video_id, e.language}) > 0;
}

bool delete_caption(transaction& s, const std::string& video_id, const std::string& language) {
  return s.exec(k_delete_captions, {video_id, language}) > 0;
}

}  // namespace reel::db
