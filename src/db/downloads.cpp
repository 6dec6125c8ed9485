#include "db/downloads.hpp"

namespace reel::db {

namespace {

constexpr const char* k_lock_ready =
    "UPDATE videos SET outputs_bytes = outputs_bytes WHERE id = ? AND status = 'ready' AND ready_at = ?";
constexpr const char* k_add_outputs = "UPDATE videos SET outputs_bytes = COALESCE(outputs_bytes, 0) + ? WHERE id = ?";

}  // namespace

bool lock_ready_video(transaction& s, const std::string& video_id, const std::string& ready_at) {
  return s.exec(k_lock_ready, {video_id, ready_at}) > 0;
}

void add_video_outputs_bytes(transaction& s, const std::string& video_id, std::int64_t bytes) {
  s.exec(k_add_outputs, {bytes, video_id});
}

}  // namespace reel::db
