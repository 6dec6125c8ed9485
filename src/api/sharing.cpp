// docs/api-pages.md "Embedding and sharing": the embed page, the share page
// and oEmbed. Who may see a video is the streaming rule exactly
// (domain::videos::playable): members, anyone for public and unlisted
// videos, holders of a signed link (?token=, passed on to every stream URL).
#include "api/sharing.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "api/playback_access.hpp"
#include "api/share_url.hpp"
#include "core/log.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>

namespace reel::api {

namespace {

// The policy of the embed page; `frame_ancestors` says who may frame it.
std::string embed_policy(std::string_view frame_ancestors) {
  return "default-src 'self';base-uri 'none';form-action 'none';img-src 'self' data: blob:;media-src 'self' blob: "
         "data:;"
         "object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self';connect-src 'self';"
         "worker-src 'self' blob:;frame-ancestors " +
         std::string(frame_ancestors);
}

// Characters an origin of the organization's list may have in a header
// (they were checked when set; this keeps a header from ever being split).
bool header_safe(std::string_view origin) {
  if (origin.empty() || origin.size() > 300) return false;
  for (char c : origin)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '/' || c == '.' || c == '-' || c == '[' ||
          c == ']'))
      return false;
  return true;
}

// frame-ancestors for an organization: any site when it lists no origins,
// else the server itself (the share dialog's preview) and those origins.
std::string frame_ancestors_of(const model::organization& org) {
  if (org.embed_origins.empty()) return "*";
  std::string out = "'self'";
  for (const auto& o : org.embed_origins)
    if (header_safe(o)) out += " " + o;
  return out;
}

// A video a page shows, or why not.
struct lookup {
  std::optional<domain::playback> play;
  errc failure = errc::internal;
  std::string message;
};

// playable(), with the expected refusals as values (a page answers them
// with HTML, not JSON). No co_await happens in the catch.
asio::awaitable<lookup> look_up(sharing_api& api, const domain::viewer_access& a, const std::string& id) {
  lookup out;
  try {
    out.play = co_await api.videos.playable(a, id);
  } catch (const error& e) {
    out.failure = e.code();
    out.message = e.what();
  }
  co_return out;
}

// The page for a video that cannot be shown: 404 (unknown, or not the
// caller's to see), 403 (a bad playback link), 409 (not ready yet).
response refusal_page(const lookup& l) {
  std::string_view text = "This video does not exist or is not available.";
  if (l.failure == errc::forbidden) text = "This playback link is not valid or has expired.";
  if (l.failure == errc::conflict) text = "This video is not ready to play yet. Try again in a moment.";
  if (l.failure != errc::not_found && l.failure != errc::forbidden && l.failure != errc::conflict)
    throw error(l.failure, l.message);
  std::string body = "<main class=\"notice\"><p>" + html_escape(text) + "</p></main>";
  response res = html_page(static_cast<status>(http_status_of(l.failure)), "Video unavailable", "", body);
  res.set(http::field::cache_control, "no-store");
  return res;
}

std::string token_query(const std::optional<std::string>& token, char sep = '?') {
  return token ? sep + std::string("token=") + url_encode(*token) : std::string();
}

// The <video> of the embed and share pages; web/static/embed.js reads its data- attributes.
std::string player_html(const context& ctx, const model::video& v, const std::optional<std::string>& token) {
  std::string stream = "/api/stream/" + v.id;
  std::string q = token_query(token);
  bool autoplay = ctx.query("autoplay").value_or("") == "1";
  bool muted = ctx.query("muted").value_or("") == "1";
  return "<video id=\"player\" class=\"player\" controls playsinline preload=\"metadata\" poster=\"" +
         html_escape(poster_path(v, token)) + "\" data-hls=\"" + html_escape(stream + "/hls/master.m3u8" + q) +
         "\" data-mp4=\"" + html_escape(stream + "/video" + q) + "\" data-storyboard=\"" +
         html_escape(stream + "/storyboard.vtt" + q) + "\" data-autoplay=\"" + (autoplay ? "1" : "0") +
         "\" data-muted=\"" + (muted ? "1" : "0") + "\" aria-label=\"" + html_escape(v.title) + "\"></video>";
}

constexpr std::string_view k_player_head =
    "<script src=\"/static/vendor/hls.min.js\" defer></script>\n"
    "<script src=\"/static/storyboard.js\" defer></script>\n"
    "<script src=\"/static/embed.js\" defer></script>\n";

// GET/HEAD /embed/:id[?token=&autoplay=1&muted=1]
asio::awaitable<response> embed_page(sharing_api& api, context& ctx) {
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  const std::string& id = ctx.params.at("id");
  lookup l = co_await look_up(api, access, id);
  if (!l.play) {
    // Anyone may frame the refusal: it says nothing the stream would not.
    response res = refusal_page(l);
    res.set("Content-Security-Policy", embed_policy("*"));
    co_return res;
  }
  const model::video& v = l.play->video;
  auto org = co_await api.sharing.organization(v.organization_id);
  response res = html_page(status::ok, v.title, k_player_head, player_html(ctx, v, token), "embed");
  res.set("Content-Security-Policy", embed_policy(frame_ancestors_of(org)));
  res.set("Cross-Origin-Resource-Policy", "cross-origin");
  res.set(http::field::cache_control, "private, no-store");
  co_return res;
}

void meta(std::string& out, std::string_view attr, std::string_view key, std::string_view value) {
  out += "<meta " + std::string(attr) + "=\"" + std::string(key) + "\" content=\"" + html_escape(value) + "\">\n";
}

// The link-preview tags of a share page (Open Graph, Twitter, oEmbed discovery).
std::string preview_tags(const std::string& base, const model::video& v, const std::optional<std::string>& token) {
  std::string q = token_query(token);
  std::string share = base + "/v/" + v.id + q;
  std::string mp4 = base + "/api/stream/" + v.id + "/video" + q;
  std::string embed = base + "/embed/" + v.id + q;
  std::string w = std::to_string(v.width.value_or(640)), h = std::to_string(v.height.value_or(360));
  std::string out;
  meta(out, "property", "og:title", v.title);
  meta(out, "property", "og:description", v.description);
  meta(out, "property", "og:type", "video.other");
  meta(out, "property", "og:url", share);
  meta(out, "property", "og:site_name", "reel");
  meta(out, "property", "og:image", base + poster_path(v, token));
  meta(out, "property", "og:image:width", w);
  meta(out, "property", "og:image:height", h);
  meta(out, "property", "og:video", mp4);
  meta(out, "property", "og:video:secure_url", mp4);
  meta(out, "property", "og:video:type", "video/mp4");
  meta(out, "property", "og:video:width", w);
  meta(out, "property", "og:video:height", h);
  meta(out, "property", "video:duration", std::to_string(std::llround(v.duration_sec.value_or(0))));
  meta(out, "name", "twitter:card", "player");
  meta(out, "name", "twitter:title", v.title);
  meta(out, "name", "twitter:description", v.description);
  meta(out, "name", "twitter:image", base + poster_path(v, token));
  meta(out, "name", "twitter:player", embed);
  meta(out, "name", "twitter:player:width", w);
  meta(out, "name", "twitter:player:height", h);
  std::string oembed = base + "/oembed?url=" + url_encode(share) + "&format=json";
  out += "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"" + html_escape(oembed) + "\" title=\"" +
         html_escape(v.title) + "\">\n";
  out += "<link rel=\"canonical\" href=\"" + html_escape(base + "/v/" + v.id) + "\">\n";
  return out;
}

// GET/HEAD /v/:id[?token=]
asio::awaitable<response> share_page(sharing_api& api, context& ctx) {
  auto token = playback_token(ctx);
  auto access = viewer_access_of(ctx, token);
  lookup l = co_await look_up(api, access, ctx.params.at("id"));
  if (!l.play) co_return refusal_page(l);
  const model::video& v = l.play->video;
  std::string head = preview_tags(link_base(api, ctx), v, token) + std::string(k_player_head);
  std::string body = "<main class=\"share\"><div class=\"frame\">" + player_html(ctx, v, token) +
                     "</div><h1 class=\"title\">" + html_escape(v.title) + "</h1>";
  if (!v.description.empty()) body += "<p class=\"description\">" + html_escape(v.description) + "</p>";
  body += "</main>";
  response res = html_page(status::ok, v.title, head, body);
  res.set(http::field::cache_control, "private, no-store");
  co_return res;
}

// The iframe's size: `maxwidth` (default 640) wide at the video's aspect
// ratio, narrowed to fit `maxheight`; never below 1.
std::pair<long, long> oembed_size(const model::video& v, std::optional<int> max_w, std::optional<int> max_h) {
  double vw = static_cast<double>(v.width.value_or(0)), vh = static_cast<double>(v.height.value_or(0));
  if (vw <= 0 || vh <= 0) vw = 16, vh = 9;
  double w = max_w.value_or(640);
  double h = w * vh / vw;
  if (max_h && h > *max_h) {
    h = *max_h;
    w = h * vw / vh;
  }
  return {std::max(1L, std::lround(std::floor(w + 1e-9))), std::max(1L, std::lround(std::floor(h + 1e-9)))};
}

// The oEmbed answer; throws error for a refusal (oembed() renders it).
asio::awaitable<response> oembed_answer(sharing_api& api, context& ctx) {
  auto format = ctx.query("format").value_or("json");
  if (format == "xml")
    co_return http::json_response(
        status::not_implemented,
        json::object{{"error", {{"code", "not_implemented"}, {"message", "Only format=json is served."}}}});
  if (format != "json") throw error(errc::bad_request, "The parameter \"format\" must be json.");
  auto max_w = query_int(ctx, "maxwidth", 1, 10000);
  auto max_h = query_int(ctx, "maxheight", 1, 10000);
  auto url = ctx.query("url");
  if (!url || url->empty()) throw error(errc::bad_request, "The parameter \"url\" is required.");
  auto target = parse_share_url(*url);
  if (!target) throw error(errc::not_found, "The url is not a video page of this server.");
  // As anyone sees it: what a consumer embeds must play for its readers.
  domain::viewer_access anyone;
  if (target->token) anyone.token = *target->token;
  auto play = co_await api.videos.playable(anyone, target->video_id);
  const model::video& v = play.video;
  std::string base = link_base(api, ctx);
  auto [w, h] = oembed_size(v, max_w, max_h);
  std::string src = base + "/embed/" + v.id + token_query(target->token);
  std::string html = "<iframe src=\"" + html_escape(src) + "\" width=\"" + std::to_string(w) + "\" height=\"" +
                     std::to_string(h) +
                     "\" frameborder=\"0\" allow=\"autoplay; fullscreen; picture-in-picture\" allowfullscreen "
                     "title=\"" +
                     html_escape(v.title) + "\"></iframe>";
  json::object out{{"type", "video"},
                   {"version", "1.0"},
                   {"title", v.title},
                   {"provider_name", "reel"},
                   {"provider_url", base + "/"},
                   {"cache_age", 300},
                   {"thumbnail_url", base + poster_path(v, target->token)},
                   {"thumbnail_width", v.width.value_or(w)},
                   {"thumbnail_height", v.height.value_or(h)},
                   {"html", html},
                   {"width", w},
                   {"height", h}};
  response res = http::json_response(status::ok, out);
  res.set(http::field::cache_control, target->token ? "private, no-store" : "public, max-age=300");
  co_return res;
}

// GET /oembed?url=&maxwidth=&maxheight=&format=json (oEmbed 1.0 §2.3, type
// video): any site may read every answer, refusals included.
asio::awaitable<response> oembed(sharing_api& api, context& ctx) {
  response res;
  std::optional<error> refusal;
  try {
    res = co_await oembed_answer(api, ctx);
  } catch (const error& e) {
    refusal = e;
  }
  if (refusal) res = http::error_response(refusal->code(), refusal->what());
  res.set(http::field::access_control_allow_origin, "*");
  co_return res;
}

}  // namespace

std::string link_base(const sharing_api& api, const http::context& ctx) {
  if (!api.public_url.empty()) return api.public_url;
  std::string_view host = ctx.header(http::field::host);
  bool plain = !host.empty() && host.size() <= 255;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      plain = false;
  std::string scheme = "http";
  if (ctx.header("X-Forwarded-Proto") == "https") {
    auto peer = ctx.remote.address();
    for (const auto& n : api.trusted_proxies)
      if (n.contains(peer)) scheme = "https";
  }
  return scheme + "://" + (plain ? std::string(host) : std::string("localhost"));
}

http::response html_page(http::status s, std::string_view title, std::string_view head, std::string_view body,
                         std::string_view body_class) {
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      html_escape(title) + "</title>\n" + std::string(head) +
      "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
      "<link rel=\"stylesheet\" href=\"/static/embed.css\">\n</head><body class=\"" +
      std::string(body_class) + "\">\n" + std::string(body) + "\n</body></html>\n";
  return http::text_response(s, std::move(page), "text/html; charset=utf-8");
}

std::string poster_path(const model::video& v, const std::optional<std::string>& token) {
  std::string path = "/api/stream/" + v.id + "/thumbnail.jpg";
  if (v.poster_version == 0) return path + token_query(token);
  return path + "?v=" + std::to_string(v.poster_version) + token_query(token, '&');
}

void add_sharing_routes(http::router& r, const guard& g, sharing_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::get, "/embed/:id", g.viewer(h(embed_page)));
  r.add(verb::get, "/v/:id", g.viewer(h(share_page)));
  r.add(verb::get, "/oembed", h(oembed));
  add_public_page_routes(r, api);
}

}  // namespace reel::api
