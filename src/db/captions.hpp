// Repository of captions: one WebVTT file per video and language, kept in
// the row itself (at most 2 MiB as uploaded, normalized before it is
// stored). Each function runs inside the caller's transaction.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reel::db {

// A caption track without its text.
struct caption_entry {
  std::string video_id, language, label;
  std::int64_t size_bytes = 0;
  std::string created_at, updated_at;
};

// The video's captions, by language.
std::vector<caption_entry> list_captions(transaction& s, const std::string& video_id);

// The WebVTT text of the video's captions in `language`, or nullopt.
std::optional<std::string> caption_text(transaction& s, const std::string& video_id, const std::string& language);

// Adds the captions `e` with `vtt`; false (and nothing written) when the
// video has captions in that language already. Use a write transaction.
bool insert_caption(transaction& s, const caption_entry& e, const std::string& vtt);

// Replaces the label (when given), text and size of the captions in
// `e.language`, updated_at = e.updated_at. False when there are none.
bool replace_caption(transaction& s, const caption_entry& e, const std::optional<std::string>& label,
                     const std::string& vtt);

// Deletes the video's captions in `language`; false when there were none.
bool delete_caption(transaction& s, const std::string& video_id, const std::string& language);

}  // namespace reel::db
