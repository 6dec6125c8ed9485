// Captions: WebVTT or SRT files per video and language, stored as
// normalized WebVTT (src/media/captions.hpp) in the database, never touching
// the video's renditions (changing them re-transcodes nothing: the master
// playlist names them when it is served). Coroutines on the loop thread;
// parsing and the database run on the pool.
#pragma once

#include "db/captions.hpp"
#include "domain/videos.hpp"
#include "media/captions.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reel::domain {

using caption_entry = db::caption_entry;

// An uploaded caption file and what it is filed under.
struct caption_upload {
  std::string language;              // canonical (media::canonical_language)
  std::optional<std::string> label;  // validated by the caller; nullopt: kept, or the language for a new one
  media::caption_format format = media::caption_format::webvtt;
  std::string body;  // as uploaded
};

class captions {
 public:
  captions(video_context c, videos& v) : c_(c), videos_(v) {}

  // The captions of the video `id` for whoever may play it (a member of its
  // organization, anyone for a public or unlisted video, a signed link's
  // holder), ready or not. Throws as videos::may_play, error(not_found)
  // for a video they may not see.
  boost::asio::awaitable<std::vector<caption_entry>> list(const viewer_access& a, const std::string& id);

  // The captions of a video the caller was allowed to play already.
  boost::asio::awaitable<std::vector<caption_entry>> list_of(const std::string& video_id);

  // The WebVTT text of a video the caller was allowed to play already;
  // error(not_found) when it has no captions in `language`.
  boost::asio::awaitable<std::string> text(const std::string& video_id, const std::string& language);

  // Adds captions in a language the video has none in (error(conflict)
  // else). Replace: adds or replaces them; `created` says which. Both need
  // edit_video (error(forbidden)); error(not_found) for a video not in
  // `in`; the file's errors are normalize_captions'.
  struct saved {
    caption_entry entry;
    bool created = false;
  };
  boost::asio::awaitable<saved> add(const model::org_scope& in, const std::string& id, const caption_upload& file);
  boost::asio::awaitable<saved> replace(const model::org_scope& in, const std::string& id, const caption_upload& file);

  // Deletes the video's captions in `language` (edit_video);
  // error(not_found) for no such video in `in` or no such captions.
  boost::asio::awaitable<void> remove(const model::org_scope& in, const std::string& id, const std::string& language);

 private:
  boost::asio::awaitable<saved> save(const model::org_scope& in, const std::string& id, const caption_upload& file,
                                     bool may_replace);

  video_context c_;
  videos& videos_;
};

}  // namespace reel::domain
