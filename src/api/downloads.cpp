// A <a download> link cannot send X-Organization-Id, so the organization is
// the video's own, as for the stream routes (src/api/streaming.cpp): the
// caller downloads as a member of it, or anyone may for a public or
// unlisted video, or with a signed link (?token=); else 404.
#include "api/downloads.hpp"

#include "api/handler.hpp"
#include "api/playback_access.hpp"
#include "api/share_url.hpp"
#include "http/content_disposition.hpp"
#include "http/file_response.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

namespace {

// The ?rendition= parameter: "source" or a rung name; nullopt when absent.
// One that cannot even be decoded (a bad escape, %00) is a bad one, not none.
std::optional<std::string> rendition_parameter(const context& ctx) {
  auto r = ctx.query("rendition");
  std::string_view target = ctx.req.target();
  auto q = target.find('?');
  bool named =
      q != std::string_view::npos && ("&" + std::string(target.substr(q + 1))).find("&rendition=") != std::string::npos;
  if (named && !r) r = std::string("\x01");  // fails the check below
  if (r && !domain::valid_rendition_name(*r))
    throw error(errc::bad_request,
                "The parameter \"rendition\" must be \"source\" or the name of one of the video's renditions (like "
                "720p).");
  return r;
}

// GET/HEAD /api/videos/:id/download[?rendition=][&token=]
asio::awaitable<response> download_video(download_api& api, context& ctx) {
  auto requested = rendition_parameter(ctx);
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  auto d = co_await api.downloads.prepare(access, ctx.params.at("id"), requested);
  http::file_options options;
  options.content_type = "video/mp4";
  response res = co_await http::serve_file(ctx, api.pool, d.file, options);
  res.set(http::field::content_disposition, http::attachment_disposition(d.play.video.title, ".mp4"));
  res.set("X-Download-Rendition", d.offer.rendition);
  co_return res;
}

// GET /api/videos/:id/downloads[?token=]
asio::awaitable<response> list_downloads(download_api& api, context& ctx) {
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  const std::string& id = ctx.params.at("id");
  auto [play, offers] = co_await api.downloads.offers(access, id);
  std::string link = play.by == domain::granted_by::link ? "&token=" + url_encode(*token) : "";
  json::array out;
  for (const auto& o : offers)
    out.push_back(json::object{{"rendition", o.rendition},
                               {"width", o.width},
                               {"height", o.height},
                               {"default", o.is_default},
                               {"url", "/api/videos/" + id + "/download?rendition=" + o.rendition + link}});
  co_return no_store(http::json_response(status::ok, json::object{{"downloads", std::move(out)}}));
}

}  // namespace

void add_download_routes(http::router& r, const guard& g, download_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::get, "/api/videos/:id/download", g.viewer(h(download_video)));
  r.add(verb::get, "/api/videos/:id/downloads", g.viewer(h(list_downloads)));
}

}  // namespace reel::api
