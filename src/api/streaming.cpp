// Handlers of docs/API.md "Streaming". A <video> element cannot send
// X-Organization-Id, so the organization is the video's own; the caller
// must be a member of it (else 404, as if it did not exist).
#include "api/handler.hpp"
#include "api/input.hpp"
#include "api/videos.hpp"
#include "http/file_response.hpp"
#include "media/ffmpeg.hpp"

#include <cmath>
#include <cstdio>

namespace reel::api {

namespace {

// The MIME type of an HLS file path ("master.m3u8", "360p/seg_001.ts"), or
// nullopt for anything else: at most two plain names.
std::optional<std::string> hls_file_type(std::string_view rest) {
  if (!storage::is_plain_relative_path(rest, 2, 100)) return std::nullopt;
  if (rest.ends_with(".m3u8")) return std::string("application/vnd.apple.mpegurl");
  if (rest.ends_with(".ts")) return std::string("video/mp2t");
  return std::nullopt;
}

// GET/HEAD /api/stream/:id/video. A player's run of range requests costs
// neither a query nor an open(2) each: the row and the open file are cached.
asio::awaitable<response> stream_video(video_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  const stream_cache::entry* hit = api.streams.find(id);
  // A cached row was read for some caller: this one must be allowed too.
  if (hit && !domain::videos::may_play(*ctx.principal, named_org(ctx), hit->video))
    throw error(errc::not_found, "No such video.");
  if (!hit) {
    auto v = co_await api.videos.playable(*ctx.principal, named_org(ctx), id);
    auto path = api.files.video_dir(v.organization_id, v.id) / "video.mp4";
    auto open_job = [&path] { return http::open_file_info(path); };
    auto info = co_await api.pool.offload(open_job);
    if (!info) throw error(errc::not_found, "No such video.");
    api.streams.put(v, std::move(*info));
    hit = api.streams.find(id);
  }
  http::file_options options;
  options.content_type = "video/mp4";
  co_return http::file_response(ctx, hit->file, options);
}

// GET/HEAD /api/stream/:id/hls/master.m3u8 and /api/stream/:id/hls/<rendition>/<file>.
asio::awaitable<response> stream_hls(video_api& api, context& ctx) {
  const std::string& rest = ctx.params.at("*");
  auto type = hls_file_type(rest);
  if (!type) throw error(errc::not_found, "No such file.");
  auto v = co_await api.videos.playable(*ctx.principal, named_org(ctx), ctx.params.at("id"));
  auto path = api.files.video_dir(v.organization_id, v.id) / "hls" / rest;
  http::file_options options;
  options.content_type = *type;
  co_return co_await http::serve_file(ctx, api.pool, path, options);
}

// The ?time= parameter: seconds, 0 or more.
std::optional<double> time_parameter(const context& ctx) {
  auto t = ctx.query("time");
  if (!t) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(t->c_str(), &end);
  if (t->empty() || *end != '\0' || !(v >= 0) || v > 1e7)
    throw error(errc::bad_request, "The parameter \"time\" must be a number of seconds, 0 or more.");
  return v;
}

// GET /api/stream/:id/thumbnail.jpg[?time=&width=]: the poster, or a frame.
asio::awaitable<response> thumbnail(video_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  std::optional<double> at = time_parameter(ctx);
  std::optional<int> width = query_int(ctx, "width", 16, 1920);
  auto v = co_await api.videos.playable(*ctx.principal, named_org(ctx), id);
  auto dir = api.files.video_dir(v.organization_id, v.id);
  http::file_options options;
  options.content_type = "image/jpeg";
  options.cache_control = "private, max-age=3600";
  if (!at && !width) {
    auto poster = dir / "poster.jpg";
    co_return co_await http::serve_file(ctx, api.pool, poster, options);
  }
  // Snapped to a small fixed set of times and widths: a client cannot fill
  // the disk with one cached frame per millisecond and pixel.
  double duration = v.duration_sec.value_or(0);
  double when = media::snap_frame_time(at.value_or(std::min(5.0, duration * 0.1)), duration);
  if (width) width = media::snap_frame_width(*width);
  auto ms = std::llround(when * 1000);
  auto output = dir / "thumbs" / ("t" + std::to_string(ms) + "_w" + std::to_string(width.value_or(0)) + ".jpg");
  auto input = dir / "video.mp4";
  double seek = static_cast<double>(ms) / 1000.0;
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.3f", seek);
  if (!co_await api.thumbnails.make(input, seek, width, output)) {
    // Deleted or reprocessed while the frame was being made: answer as if asked now.
    co_await api.videos.playable(*ctx.principal, named_org(ctx), id);  // 404 or 409 when so
    auto room = [&space = api.files.space()] { space.check(0); };
    co_await api.pool.offload(room);  // 507 when the volume is full (down to the reserve)
    throw error(errc::internal, "The frame could not be made.");
  }
  response res = co_await http::serve_file(ctx, api.pool, output, options);
  res.set("X-Frame-Time", shown);  // the time the frame was taken at, after snapping
  co_return res;
}

}  // namespace

void add_stream_routes(http::router& r, const guard& g, video_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::get, "/api/stream/:id/video", g.user(h(stream_video)));
  r.add(verb::get, "/api/stream/:id/hls/*", g.user(h(stream_hls)));
  r.add(verb::get, "/api/stream/:id/thumbnail.jpg", g.user(h(thumbnail)));
}

}  // namespace reel::api
