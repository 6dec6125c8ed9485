#include "api/views.hpp"

#include "api/handler.hpp"
#include "core/log.hpp"
#include "http/client_address.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

using domain::action;

namespace {

// GET /api/videos/:id/stats: the total and the views of each of the last 30 UTC days.
asio::awaitable<response> video_stats(view_api& api, context& ctx) {
  auto stats = co_await api.views.stats(*ctx.org, ctx.params.at("id"));
  json::array days;
  days.reserve(stats.days.size());
  for (const auto& d : stats.days) days.push_back(json::object{{"date", d.date}, {"views", d.views}});
  co_return no_store(http::json_response(
      status::ok,
      json::object{{"videoId", stats.video_id}, {"viewCount", stats.view_count}, {"days", std::move(days)}}));
}

}  // namespace

void add_view_routes(http::router& r, const guard& g, view_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  r.add(http::verb::get, "/api/videos/:id/stats", g.org(action::view_videos, h(video_stats)));
}

std::function<void(const model::video&, const http::context&)> play_counter(view_api& api) {
  return [&api](const model::video& v, const http::context& ctx) {
    try {
      std::string address = http::client_address(ctx, api.trusted_proxies);
      api.views.record(v.id, {ctx.principal.get(), address, ctx.header(http::field::user_agent)});
    } catch (const std::exception& e) {  // the play goes on, uncounted
      log::warn("a play was not counted", {{"error", e.what()}});
    }
  };
}

}  // namespace reel::api
