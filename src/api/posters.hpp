// Handlers of docs/API.md "Posters": PUT /api/videos/:id/poster (a frame
// at a time, or an uploaded JPEG/PNG) and DELETE /api/videos/:id/poster
// (back to the automatic frame), for members and above.
#pragma once

#include "api/guard.hpp"
#include "domain/posters.hpp"
#include "http/router.hpp"

namespace reel::api {

struct poster_api {
  domain::posters& posters;
};

void add_poster_routes(http::router& r, const guard& g, poster_api& api);

}  // namespace reel::api
