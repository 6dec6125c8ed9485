#include "api/posters.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "model/json.hpp"

#include <cmath>

namespace reel::api {

using domain::action;

namespace {

response video_ok_response(const model::video& v) {
  return http::json_response(status::ok, json::object{{"video", model::video_json(v)}});
}

// The body {"time": seconds}: a number, 0 or more (the upper bound is the
// video's duration, checked by the domain).
double time_field(context& ctx) {
  const auto& body = require_object(ctx.json_body());
  for (const auto& field : body)
    if (field.key() != "time")
      throw error(errc::bad_request, "Send {\"time\": seconds} (the field \"" + std::string(field.key()) +
                                         "\" is not one of a poster's).");
  const auto* t = body.if_contains("time");
  if (!t || !t->is_number()) throw error(errc::bad_request, "The field \"time\" (seconds, a number) is required.");
  double at = t->to_number<double>();
  if (!std::isfinite(at) || at < 0) throw error(errc::bad_request, "The field \"time\" must be a number, 0 or more.");
  return at;
}

// PUT /api/videos/:id/poster: {"time": s} as JSON, or a JPEG or PNG image.
asio::awaitable<response> put_poster(poster_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  std::string type = media_type(ctx.header(http::field::content_type));
  if (type == "application/json") {
    double at = time_field(ctx);
    auto v = co_await api.posters.choose_frame(*ctx.org, id, at);
    co_return video_ok_response(v);
  }
  if (type != "image/jpeg" && type != "image/png")
    throw error(errc::unsupported_media_type,
                "Send {\"time\": seconds} as application/json, or the image as image/jpeg or image/png.");
  const std::string& image = ctx.req.body();
  auto sniffed = media::sniff_still(image);
  bool matches = sniffed && (*sniffed == media::still_format::png) == (type == "image/png");
  if (!matches)
    throw error(errc::bad_request,
                type == "image/png" ? "The body is not a PNG image." : "The body is not a JPEG image.");
  auto v = co_await api.posters.upload_image(*ctx.org, id, image);
  co_return video_ok_response(v);
}

// DELETE /api/videos/:id/poster: the automatic frame again.
asio::awaitable<response> reset_poster(poster_api& api, context& ctx) {
  auto v = co_await api.posters.reset(*ctx.org, ctx.params.at("id"));
  co_return video_ok_response(v);
}

}  // namespace

void add_poster_routes(http::router& r, const guard& g, poster_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  http::route_options image{.body_limit = domain::k_max_poster_upload_bytes};
  r.add(verb::put, "/api/videos/:id/poster", g.org(action::edit_video, h(put_poster)), image);
  r.add(verb::delete_, "/api/videos/:id/poster", g.org(action::edit_video, h(reset_poster)));
}

}  // namespace reel::api
