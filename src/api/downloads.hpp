// Handlers of docs/api-downloads.md: a video as an MP4 file to save
// (/api/videos/:id/download) and the downloads offered for it
// (/api/videos/:id/downloads), for whoever may play it.
#pragma once

#include "api/guard.hpp"
#include "core/offload.hpp"
#include "domain/downloads.hpp"
#include "http/router.hpp"

namespace reel::api {

struct download_api {
  domain::downloads& downloads;
  worker_pool& pool;
};

void add_download_routes(http::router& r, const guard& g, download_api& api);

}  // namespace reel::api
