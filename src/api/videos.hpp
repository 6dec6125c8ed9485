// Handlers of docs/API.md "Videos" (src/api/videos.cpp) and "Streaming"
// (src/api/streaming.cpp): parse and validate the request, call the domain
// (src/domain/videos.hpp), render the answer.
#pragma once

#include "api/caches.hpp"
#include "api/guard.hpp"
#include "core/offload.hpp"
#include "domain/captions.hpp"
#include "domain/videos.hpp"
#include "http/router.hpp"
#include "media/thumbnailer.hpp"
#include "storage/blobs.hpp"

#include <cstdint>
#include <functional>

namespace reel::api {

struct video_api {
  domain::videos& videos;
  worker_pool& pool;
  const storage::layout& files;
  media::thumbnailer& thumbnails;
  std::uint64_t max_upload_bytes;
  stream_cache streams{};
  list_cache lists{};
  // A play started (the MP4 from byte 0, or a rendition's first segment):
  // counts a view. Called on the loop; must not block.
  std::function<void(const model::video&, const http::context&)> on_play{};
  // Named in the master playlist when it is served (src/api/captions.hpp); null: none.
  domain::captions* captions = nullptr;
};

// /api/videos and /api/videos/:id[/reprocess].
void add_video_routes(http::router& r, const guard& g, video_api& api);
// /api/stream/:id/{video,hls/*,thumbnail.jpg}.
void add_stream_routes(http::router& r, const guard& g, video_api& api);

}  // namespace reel::api
