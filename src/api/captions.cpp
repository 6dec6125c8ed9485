#include "api/captions.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "api/playback_access.hpp"
#include "http/file_response.hpp"
#include "media/hls_playlist.hpp"
#include "storage/blobs.hpp"

#include <boost/json/array.hpp>

#include <system_error>

namespace reel::api {

using domain::action;

namespace {

constexpr std::size_t k_max_label_chars = 100;

std::string stream_base(const std::string& id) { return "/api/stream/" + id + "/captions/"; }

json::object caption_json(const domain::caption_entry& e, const std::optional<std::string>& token) {
  std::string url = stream_base(e.video_id) + e.language + ".vtt";
  if (token) url += "?token=" + *token;
  return json::object{{"language", e.language},    {"label", e.label},
                      {"sizeBytes", e.size_bytes}, {"url", url},
                      {"createdAt", e.created_at}, {"updatedAt", e.updated_at}};
}

// The language of a route or query: error(bad_request) unless a BCP 47 tag.
std::string language_of(const std::optional<std::string>& text) {
  if (!text)
    throw error(errc::bad_request, "The parameter \"language\" is required (a BCP 47 tag such as en or pt-BR).");
  auto tag = media::canonical_language(*text);
  if (!tag) throw error(errc::bad_request, "The parameter \"language\" must be a BCP 47 tag such as en or pt-BR.");
  return *tag;
}

// The ?label= parameter: 1 to 100 characters of text, trimmed; nullopt when absent.
std::optional<std::string> label_of(const context& ctx) {
  auto label = ctx.query("label");
  if (!label) return std::nullopt;
  auto first = label->find_first_not_of(" \t");
  auto last = label->find_last_not_of(" \t");
  std::string text = first == std::string::npos ? "" : label->substr(first, last - first + 1);
  auto chars = utf8_check(text);
  if (!chars || *chars < 1 || *chars > k_max_label_chars || has_unsafe_char(text))
    throw error(errc::bad_request, "The parameter \"label\" must be 1 to 100 characters of text.");
  return text;
}

// The body as a caption file of the request's Content-Type.
domain::caption_upload upload_of(context& ctx, std::string language) {
  std::string type = media_type(ctx.header(http::field::content_type));
  domain::caption_upload up;
  if (type == "text/vtt")
    up.format = media::caption_format::webvtt;
  else if (type == "application/x-subrip")
    up.format = media::caption_format::srt;
  else
    throw error(errc::unsupported_media_type,
                "A caption file must be sent as Content-Type text/vtt (WebVTT) or application/x-subrip (SRT).");
  up.language = std::move(language);
  up.label = label_of(ctx);
  up.body = std::move(ctx.req.body());
  return up;
}

response saved_response(const domain::captions::saved& s) {
  return http::json_response(s.created ? status::created : status::ok,
                             json::object{{"caption", caption_json(s.entry, std::nullopt)}});
}

// GET /api/videos/:id/captions
asio::awaitable<response> list_captions(caption_api& api, context& ctx) {
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto list = co_await api.captions.list(access, ctx.params.at("id"));
  json::array out;
  for (const auto& e : list) out.push_back(caption_json(e, token));
  response res = http::json_response(status::ok, json::object{{"captions", std::move(out)}});
  res.set(http::field::cache_control, "private, no-cache");
  co_return res;
}

// POST /api/videos/:id/captions?language=&label=
asio::awaitable<response> add_captions(caption_api& api, context& ctx) {
  auto file = upload_of(ctx, language_of(ctx.query("language")));
  auto saved = co_await api.captions.add(*ctx.org, ctx.params.at("id"), file);
  co_return saved_response(saved);
}

// PUT /api/videos/:id/captions/:language[?label=]
asio::awaitable<response> replace_captions(caption_api& api, context& ctx) {
  auto file = upload_of(ctx, language_of(ctx.params.at("language")));
  auto saved = co_await api.captions.replace(*ctx.org, ctx.params.at("id"), file);
  co_return saved_response(saved);
}

// DELETE /api/videos/:id/captions/:language
asio::awaitable<response> delete_captions(caption_api& api, context& ctx) {
  auto language = language_of(ctx.params.at("language"));
  co_await api.captions.remove(*ctx.org, ctx.params.at("id"), language);
  co_return http::empty_response(status::no_content);
}

// Never stored when played by a link (the answer holds it); else revalidated
// each time (captions change, and the master playlist with them).
std::string_view cache_control(domain::granted_by why) {
  return why == domain::granted_by::link ? "private, no-store" : "private, no-cache";
}

// A response that played without membership: any site may read it, without credentials.
void open_captions_to_any_site(response& res, domain::granted_by why) {
  if (why == domain::granted_by::membership) return;
  res.set(http::field::access_control_allow_origin, "*");
  res.set("Cross-Origin-Resource-Policy", "cross-origin");
}

// GET /api/stream/:id/captions/:file, the file "<language>.vtt" (the
// captions) or "<language>.m3u8" (an HLS media playlist of them).
asio::awaitable<response> stream_captions(caption_api& api, context& ctx) {
  const std::string& file = ctx.params.at("file");
  bool playlist = file.ends_with(".m3u8");
  if (!playlist && !file.ends_with(".vtt")) throw error(errc::not_found, "No such file.");
  auto language = media::canonical_language(file.substr(0, file.rfind('.')));
  if (!language) throw error(errc::not_found, "No such file.");
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto play = co_await api.videos.playable(access, ctx.params.at("id"));
  auto vtt = co_await api.captions.text(play.video.id, *language);
  response res;
  if (playlist) {
    std::string text = media::subtitles_playlist(*language + ".vtt", play.video.duration_sec.value_or(0));
    if (play.by == domain::granted_by::link) text = media::add_query_to_playlist(text, "token=" + *token);
    res = http::text_response(status::ok, std::move(text), "application/vnd.apple.mpegurl");
  } else {
    res = http::text_response(status::ok, std::move(vtt), "text/vtt; charset=utf-8");
  }
  res.set(http::field::cache_control, cache_control(play.by));
  open_captions_to_any_site(res, play.by);
  co_return res;
}

}  // namespace

asio::awaitable<response> master_playlist(worker_pool& pool, domain::captions& captions, const domain::playback& play,
                                          const std::filesystem::path& path, const std::optional<std::string>& token) {
  // As http::serve_file: only a file that is not there is 404; one that
  // cannot be opened now (no descriptors, I/O) is 503 with Retry-After.
  auto read_job = [&path]() -> std::optional<std::string> {
    try {
      return storage::read_small_file(path, 1 << 20);
    } catch (const std::system_error&) {
      throw error(errc::unavailable, "The file cannot be read right now; try again shortly.", http::k_unreadable_retry);
    }
  };
  auto text = co_await pool.offload(read_job);
  if (!text) throw error(errc::not_found, "No such file.");
  auto list = co_await captions.list_of(play.video.id);
  std::vector<media::subtitle_rendition> tracks;
  for (const auto& e : list) tracks.push_back({e.language, e.label, "../captions/" + e.language + ".m3u8"});
  std::string master = media::add_subtitles_to_master(*text, tracks);
  if (play.by == domain::granted_by::link) master = media::add_query_to_playlist(master, "token=" + *token);
  response res = http::text_response(status::ok, std::move(master), "application/vnd.apple.mpegurl");
  res.set(http::field::cache_control, cache_control(play.by));
  co_return res;
}

void add_caption_routes(http::router& r, const guard& g, caption_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  http::route_options file{.body_limit = media::k_max_caption_bytes};
  using http::verb;
  r.add(verb::get, "/api/videos/:id/captions", g.viewer(h(list_captions)));
  r.add(verb::post, "/api/videos/:id/captions", g.org(action::edit_video, h(add_captions)), file);
  r.add(verb::put, "/api/videos/:id/captions/:language", g.org(action::edit_video, h(replace_captions)), file);
  r.add(verb::delete_, "/api/videos/:id/captions/:language", g.org(action::edit_video, h(delete_captions)));
  r.add(verb::get, "/api/stream/:id/captions/:file", g.viewer(h(stream_captions)));
}

}  // namespace reel::api
