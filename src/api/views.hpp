// Handlers of the views API (docs/api-views.md): GET /api/videos/:id/stats,
// and the hook that counts plays (video_api::on_play). The rules are the
// domain's (src/domain/views.hpp).
#pragma once

#include "api/guard.hpp"
#include "core/ip_network.hpp"
#include "domain/views.hpp"
#include "http/router.hpp"
#include "model/videos.hpp"

#include <functional>
#include <vector>

namespace reel::api {

struct view_api {
  domain::views& views;
  // Proxies whose X-Forwarded-For names the client (an anonymous viewer is their address and User-Agent).
  std::vector<ip_network> trusted_proxies;
};

// GET /api/videos/:id/stats.
void add_view_routes(http::router& r, const guard& g, view_api& api);

// What video_api::on_play calls: counts the play for whoever made the
// request, in the background. Loop thread; never throws, never waits.
std::function<void(const model::video&, const http::context&)> play_counter(view_api& api);

}  // namespace reel::api
