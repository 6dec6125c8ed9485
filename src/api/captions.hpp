// Handlers of docs/api-captions.md: captions of a video, uploaded and
// managed under /api/videos/:id/captions, served under
// /api/stream/:id/captions/ (WebVTT, and an HLS playlist of it) and named
// in the master playlist when it is served.
#pragma once

#include "api/guard.hpp"
#include "core/offload.hpp"
#include "domain/captions.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace reel::api {

struct caption_api {
  domain::videos& videos;
  domain::captions& captions;
  worker_pool& pool;
};

// /api/videos/:id/captions[/:language] and /api/stream/:id/captions/:file.
void add_caption_routes(http::router& r, const guard& g, caption_api& api);

// The response to GET /api/stream/:id/hls/master.m3u8 of `play`: the file at
// `path` with a SUBTITLES group of the video's captions and, when it plays
// by a link, `token` on every URI. Not cacheable (captions change).
boost::asio::awaitable<http::response> master_playlist(worker_pool& pool, domain::captions& captions,
                                                       const domain::playback& play, const std::filesystem::path& path,
                                                       const std::optional<std::string>& token);

}  // namespace reel::api
