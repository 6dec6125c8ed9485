// Handlers of docs/API.md "Streaming". A <video> element cannot send
// X-Organization-Id, so the organization is the video's own. The caller
// plays as a member of it, or anyone plays a public or unlisted video, or
// holds a signed link (?token=); else 404, as if it did not exist.
// Playback that needs no membership may be fetched from any site (CORS
// without credentials); HLS playlists played by a link carry the link on
// every URI in them.
#include "api/captions.hpp"
#include "api/handler.hpp"
#include "api/input.hpp"
#include "api/playback_access.hpp"
#include "api/videos.hpp"
#include "domain/posters.hpp"
#include "http/file_response.hpp"
#include "media/ffmpeg.hpp"
#include "media/hls_playlist.hpp"
#include "media/storyboard.hpp"
#include "storage/blobs.hpp"

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

// A response that played without membership: any site may read it, without credentials.
void open_to_any_site(response& res, domain::granted_by why) {
  if (why == domain::granted_by::membership) return;
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::access_control_expose_headers,
          "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified, X-Request-Id");
  res.set("Cross-Origin-Resource-Policy", "cross-origin");
}

// Whether a request for the MP4 starts a play: a GET without a range or
// with one from byte 0.
bool starts_mp4_play(const context& ctx) {
  if (ctx.req.method() != http::verb::get) return false;
  std::string_view range = ctx.header(http::field::range);
  return range.empty() || range.starts_with("bytes=0-");
}

// GET/HEAD /api/stream/:id/video. A player's run of range requests costs
// neither a query nor an open(2) each: the row and the open file are cached.
asio::awaitable<response> stream_video(video_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  const stream_cache::entry* hit = api.streams.find(id);
  std::optional<domain::granted_by> why;
  // A cached row was read for some caller: this one must be allowed too.
  if (hit) {
    why = api.videos.may_play(access, hit->video);
    if (!why) throw error(errc::not_found, "No such video.");
  } else {
    auto play = co_await api.videos.playable(access, id);
    why = play.by;
    auto path = api.files.video_dir(play.video.organization_id, play.video.id) / "video.mp4";
    auto open_job = [&path] { return http::open_file_info(path); };
    auto info = co_await api.pool.offload(open_job);
    if (!info) throw error(errc::not_found, "No such video.");
    api.streams.put(play.video, std::move(*info));
    hit = api.streams.find(id);
  }
  http::file_options options;
  options.content_type = "video/mp4";
  response res = http::file_response(ctx, hit->file, options);
  open_to_any_site(res, *why);
  if (api.on_play && starts_mp4_play(ctx) && res.result_int() / 100 == 2) api.on_play(hit->video, ctx);
  co_return res;
}

// A playlist played by a link: read, and every URI in it given the link.
asio::awaitable<response> linked_playlist(video_api& api, const std::filesystem::path& path, const std::string& token) {
  auto read_job = [&path]() -> std::optional<std::string> { return storage::read_small_file(path, 1 << 20); };
  auto text = co_await api.pool.offload(read_job);
  if (!text) throw error(errc::not_found, "No such file.");
  response res = http::text_response(status::ok, media::add_query_to_playlist(*text, "token=" + token),
                                     "application/vnd.apple.mpegurl");
  res.set(http::field::cache_control, "private, no-store");
  co_return res;
}

// Whether an HLS file is the first segment of a rendition (a play starts).
bool is_first_segment(std::string_view rest) { return rest.ends_with("/seg_000.ts"); }

// An HLS file of a video being processed that plays early (docs/API.md
// "Early playback"): the master offers only the stream copy (the rendition
// "source", files in the video's directory `early/`); its playlist grows,
// so playlists are never cached. Anything else is not there yet.
asio::awaitable<response> early_hls(video_api& api, context& ctx, const domain::playback& play, std::string_view rest,
                                    const std::optional<std::string>& token) {
  const model::video& v = play.video;
  response res;
  std::string_view prefix = media::k_early_rendition;
  if (rest == "master.m3u8") {
    std::string master = media::early_master_playlist(v.width.value_or(0), v.height.value_or(0),
                                                      v.duration_sec.value_or(0), v.size_bytes);
    if (play.by == domain::granted_by::link) master = media::add_query_to_playlist(master, "token=" + *token);
    res = http::text_response(status::ok, master, "application/vnd.apple.mpegurl");
    res.set(http::field::cache_control, "private, no-store");
    co_return res;
  }
  if (!rest.starts_with(prefix) || rest.size() <= prefix.size() || rest[prefix.size()] != '/')
    throw error(errc::not_found, "No such file.");
  auto path = api.files.video_dir(v.organization_id, v.id) / media::k_early_dir / rest.substr(prefix.size() + 1);
  if (rest.ends_with(".m3u8")) {
    if (play.by == domain::granted_by::link) co_return co_await linked_playlist(api, path, *token);
    auto read_job = [&path]() -> std::optional<std::string> { return storage::read_small_file(path, 1 << 20); };
    auto text = co_await api.pool.offload(read_job);
    if (!text) throw error(errc::not_found, "No such file.");
    res = http::text_response(status::ok, std::move(*text), "application/vnd.apple.mpegurl");
    res.set(http::field::cache_control, "private, no-store");
    co_return res;
  }
  http::file_options options;
  options.content_type = "video/mp2t";
  co_return co_await http::serve_file(ctx, api.pool, path, options);
}

// GET/HEAD /api/stream/:id/hls/master.m3u8 and /api/stream/:id/hls/<rendition>/<file>.
asio::awaitable<response> stream_hls(video_api& api, context& ctx) {
  const std::string& rest = ctx.params.at("*");
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto type = hls_file_type(rest);
  if (!type) throw error(errc::not_found, "No such file.");
  auto play = co_await api.videos.playable(access, ctx.params.at("id"), true);
  auto path = api.files.video_dir(play.video.organization_id, play.video.id) / "hls" / rest;
  response res;
  if (play.video.status != model::video_status::ready) {
    res = co_await early_hls(api, ctx, play, rest, token);
  } else if (rest == "master.m3u8" && api.captions) {
    res = co_await master_playlist(api.pool, *api.captions, play, path, token);
  } else if (play.by == domain::granted_by::link && rest.ends_with(".m3u8")) {
    res = co_await linked_playlist(api, path, *token);
  } else {
    http::file_options options;
    options.content_type = *type;
    res = co_await http::serve_file(ctx, api.pool, path, options);
  }
  open_to_any_site(res, play.by);
  bool counted = ctx.req.method() == http::verb::get && res.result_int() / 100 == 2 && is_first_segment(rest);
  if (api.on_play && counted) api.on_play(play.video, ctx);
  co_return res;
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

// The poster of `play`, `width` wide at most when given.
asio::awaitable<response> poster(video_api& api, context& ctx, const domain::playback& play, std::optional<int> width,
                                 http::file_options options) {
  const model::video& v = play.video;
  auto dir = api.files.video_dir(v.organization_id, v.id);
  options.cache_control = "private, no-cache";
  auto file = dir / domain::k_poster_file;
  if (width) {
    int w = media::snap_frame_width(*width);
    auto scaled = dir / "thumbs" / ("poster_v" + std::to_string(v.poster_version) + "_w" + std::to_string(w) + ".jpg");
    if (!co_await api.thumbnails.make(file, 0, w, scaled, media::frame_source::still))
      throw error(errc::internal, "The poster could not be scaled.");
    file = scaled;
  }
  response res = co_await http::serve_file(ctx, api.pool, file, options);
  open_to_any_site(res, play.by);
  co_return res;
}

// GET /api/stream/:id/thumbnail.jpg[?time=&width=]: the poster, or a frame.
asio::awaitable<response> thumbnail(video_api& api, context& ctx) {
  const std::string& id = ctx.params.at("id");
  std::optional<double> at = time_parameter(ctx);
  std::optional<int> width = query_int(ctx, "width", 16, 1920);
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto play = co_await api.videos.playable(access, id);
  const model::video& v = play.video;
  auto dir = api.files.video_dir(v.organization_id, v.id);
  http::file_options options;
  options.content_type = "image/jpeg";
  options.cache_control = "private, max-age=3600";
  if (!at) {
    // The poster: revalidated on every use, since an editor may change it
    // (PUT /api/videos/:id/poster); `width` scales it down (its copies are
    // named by the poster's version, so a new poster makes new copies).
    co_return co_await poster(api, ctx, play, width, options);
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
    co_await api.videos.playable(access, id);  // 404 or 409 when so
    auto room = [&space = api.files.space()] { space.check(0); };
    co_await api.pool.offload(room);  // 507 when the volume is full (down to the reserve)
    throw error(errc::internal, "The frame could not be made.");
  }
  response res = co_await http::serve_file(ctx, api.pool, output, options);
  res.set("X-Frame-Time", shown);  // the time the frame was taken at, after snapping
  open_to_any_site(res, play.by);
  co_return res;
}

// GET/HEAD /api/stream/:id/storyboard.vtt: the storyboard's cues; played by
// a link, every sprite URI in it carries the link. 404 for a video made
// before storyboards (until it is reprocessed).
asio::awaitable<response> storyboard_vtt(video_api& api, context& ctx) {
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto play = co_await api.videos.playable(access, ctx.params.at("id"));
  auto path = api.files.video_dir(play.video.organization_id, play.video.id) / media::k_storyboard_dir /
              media::k_storyboard_vtt;
  constexpr std::string_view vtt_type = "text/vtt; charset=utf-8";
  response res;
  if (play.by == domain::granted_by::link) {
    auto read_job = [&path]() -> std::optional<std::string> { return storage::read_small_file(path, 1 << 20); };
    auto text = co_await api.pool.offload(read_job);
    if (!text) throw error(errc::not_found, "This video has no storyboard.");
    res = http::text_response(status::ok, media::add_query_to_storyboard(*text, "token=" + *token), vtt_type);
    res.set(http::field::cache_control, "private, no-store");
  } else {
    http::file_options options;
    options.content_type = vtt_type;
    bool found = true;
    try {
      res = co_await http::serve_file(ctx, api.pool, path, options);
    } catch (const error& e) {
      if (e.code() != errc::not_found) throw;
      found = false;
    }
    if (!found) throw error(errc::not_found, "This video has no storyboard.");
  }
  open_to_any_site(res, play.by);
  co_return res;
}

// GET/HEAD /api/stream/:id/storyboard/<sprite-NNN.jpg>: a sheet of tiles.
asio::awaitable<response> storyboard_sprite(video_api& api, context& ctx) {
  const std::string& name = ctx.params.at("name");
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  if (!media::parse_sprite_name(name)) throw error(errc::not_found, "No such file.");
  auto play = co_await api.videos.playable(access, ctx.params.at("id"));
  auto path = api.files.video_dir(play.video.organization_id, play.video.id) / media::k_storyboard_dir / name;
  http::file_options options;
  options.content_type = "image/jpeg";
  response res = co_await http::serve_file(ctx, api.pool, path, options);
  open_to_any_site(res, play.by);
  co_return res;
}

}  // namespace

void add_stream_routes(http::router& r, const guard& g, video_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::get, "/api/stream/:id/video", g.viewer(h(stream_video)));
  r.add(verb::get, "/api/stream/:id/hls/*", g.viewer(h(stream_hls)));
  r.add(verb::get, "/api/stream/:id/thumbnail.jpg", g.viewer(h(thumbnail)));
  r.add(verb::get, "/api/stream/:id/storyboard.vtt", g.viewer(h(storyboard_vtt)));
  r.add(verb::get, "/api/stream/:id/storyboard/:name", g.viewer(h(storyboard_sprite)));
}

}  // namespace reel::api
