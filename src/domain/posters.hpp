// A video's poster chosen by hand (docs/API.md "Posters"): a frame at a
// time of the editor's choice, or an uploaded JPEG/PNG decoded and written
// again as a JPEG (never served as uploaded); or back to the automatic
// frame. The choice is kept with the video (a reprocess makes the same
// poster again), the poster file is replaced in the transaction that
// records it and counts its size in the organization's storage, and the
// change is published like any change to the video (caches drop it on
// every node, clients get video:updated). Loop thread; files and database
// on the pool.
#pragma once

#include "domain/videos.hpp"
#include "media/posters.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace reel::domain {

// The files of a video's poster, in its directory: the poster served
// (thumbnail.jpg) and the uploaded image it was made from, kept while chosen.
inline constexpr const char* k_poster_file = "poster.jpg";
inline constexpr const char* k_poster_image_file = "poster-image.jpg";
// The largest image accepted as a poster.
inline constexpr std::size_t k_max_poster_upload_bytes = 5 * 1024 * 1024;

class posters {
 public:
  posters(video_context c, media::poster_maker& maker) : c_(c), maker_(maker) {}

  // The frame at `at_sec` (0 ≤ at_sec ≤ duration, else error(bad_request))
  // becomes the poster of the video `id` of `in` (member+). error(not_found)
  // for an unknown id, error(conflict) unless it is ready.
  boost::asio::awaitable<model::video> choose_frame(const model::org_scope& in, const std::string& id, double at_sec);
  // The image `bytes` (a JPEG or PNG, at most k_max_poster_upload_bytes)
  // becomes the poster. error(bad_request) when it is neither or cannot be
  // decoded; otherwise as choose_frame.
  boost::asio::awaitable<model::video> upload_image(const model::org_scope& in, const std::string& id,
                                                    const std::string& bytes);
  // Back to the automatic frame (10% in, at most 5 s).
  boost::asio::awaitable<model::video> reset(const model::org_scope& in, const std::string& id);

  // Called right after a poster is recorded: caches of the video drop it.
  std::function<void(const std::string& video_id)> on_video_changed;

 private:
  // What a change records.
  struct choice {
    std::optional<double> time;
    bool image = false;
  };
  // The video, if `in` may edit it and it is ready.
  boost::asio::awaitable<model::video> editable(const model::org_scope& in, const std::string& id);
  // A frame of the video's MP4 at `at_sec` into a temporary file beside the poster.
  boost::asio::awaitable<std::filesystem::path> render_frame(const model::video& v, double at_sec);
  // Puts `poster` (and, for an image, `image`) in place, records `c` and
  // counts the change in size, if the video is still ready with the
  // outputs it had; then publishes the change. Removes the temporary files
  // in any case. error(conflict) when it was reprocessed or deleted meanwhile.
  boost::asio::awaitable<model::video> install(const model::video& v, const choice& c,
                                               const std::filesystem::path& poster,
                                               const std::optional<std::filesystem::path>& image);

  video_context c_;
  media::poster_maker& maker_;
};

}  // namespace reel::domain
