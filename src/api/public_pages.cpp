// docs/api-pages.md "Public organization pages": what anyone sees of an
// organization by its slug: its name and its public, ready videos (no member
// data). Lists are cached per process (sharing_api::lists) and dropped by
// the organization's events; a slug's organization is remembered as long.
#include "api/cursor.hpp"
#include "api/handler.hpp"
#include "api/input.hpp"
#include "api/share_url.hpp"
#include "api/sharing.hpp"
#include "core/clock.hpp"
#include "storage/blobs.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>

namespace reel::api {

namespace {

// One public video as anyone may see it: no creator, organization or file name.
json::object public_video_json(const std::string& base, const model::video& v) {
  json::value duration = nullptr, width = nullptr, height = nullptr;
  if (v.duration_sec) duration = *v.duration_sec;
  if (v.width) width = *v.width;
  if (v.height) height = *v.height;
  return {{"id", v.id},
          {"title", v.title},
          {"description", v.description},
          {"durationSec", duration},
          {"width", width},
          {"height", height},
          {"thumbnailUrl", base + poster_path(v, std::nullopt)},
          {"shareUrl", base + "/v/" + v.id},
          {"embedUrl", base + "/embed/" + v.id},
          {"createdAt", v.created_at},
          {"viewCount", v.view_count}};
}

std::string render_public_page(const std::string& base, const model::organization& org,
                               const std::vector<model::video>& rows, int limit) {
  json::array videos;
  for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(limit); ++i)
    videos.push_back(public_video_json(base, rows[i]));
  json::value next = nullptr;
  if (rows.size() > static_cast<std::size_t>(limit)) next = encode_video_cursor(rows[limit - 1]);
  return json::serialize(json::object{
      {"organization", {{"name", org.name}, {"slug", org.slug}}}, {"videos", std::move(videos)}, {"nextCursor", next}});
}

// The organization whose slug is `slug`, remembered for the lists' lifetime.
asio::awaitable<model::organization> org_by_slug(sharing_api& api, const std::string& slug) {
  auto now = std::chrono::steady_clock::now();
  if (auto it = api.slugs.find(slug); it != api.slugs.end() && it->second.until > now) co_return it->second.org;
  auto org = co_await api.organizations.by_slug(slug);
  if (api.slugs.size() >= 10'000) api.slugs.clear();
  api.slugs[slug] = {org, now + std::chrono::seconds(30)};
  co_return org;
}

// A page of the organization's public videos, as the JSON sent (cached).
asio::awaitable<std::string> public_videos_body(sharing_api& api, context& ctx, int default_limit) {
  const std::string& slug = ctx.params.at("slug");
  int limit = query_int(ctx, "limit", 1, 100).value_or(default_limit);
  std::optional<std::string> cursor_text = ctx.query("cursor");
  std::optional<model::video_cursor> after;
  if (cursor_text && !cursor_text->empty()) after = decode_video_cursor(*cursor_text);
  auto org = co_await org_by_slug(api, slug);
  std::string base = link_base(api, ctx);
  std::string key = base + "|" + slug + "|" + std::to_string(limit) + "|" + (after ? *cursor_text : std::string());
  if (const std::string* cached = api.lists.enabled() ? api.lists.find(key, org.id) : nullptr) co_return *cached;
  std::uint64_t generation = api.lists.generation(org.id);
  domain::sharing::page_renderer render = [&base, &org, limit](const std::vector<model::video>& rows) {
    return render_public_page(base, org, rows, limit);
  };
  std::string body = co_await api.sharing.public_videos(org.id, after, limit, render);
  if (api.lists.enabled()) api.lists.put(key, org.id, generation, body);
  co_return body;
}

response public_json(std::string body) {
  response res = http::json_text_response(status::ok, std::move(body));
  res.set(http::field::cache_control, "public, max-age=30");
  res.set(http::field::access_control_allow_origin, "*");
  return res;
}

// GET /api/public/orgs/:slug
asio::awaitable<response> public_org(sharing_api& api, context& ctx) {
  auto org = co_await org_by_slug(api, ctx.params.at("slug"));
  co_return public_json(json::serialize(json::object{{"organization", {{"name", org.name}, {"slug", org.slug}}}}));
}

// GET /api/public/orgs/:slug/videos?limit=&cursor=
asio::awaitable<response> public_org_videos(sharing_api& api, context& ctx) {
  std::string body = co_await public_videos_body(api, ctx, 20);
  co_return public_json(std::move(body));
}

std::string video_card(const json::object& v) {
  auto text = [&v](const char* k) { return std::string(v.at(k).as_string()); };
  std::string id = text("id");
  std::string out = "<li class=\"card\"><a href=\"/v/" + html_escape(id) + "\"><img src=\"" +
                    html_escape(text("thumbnailUrl")) + "\" alt=\"\" loading=\"lazy\"><span class=\"name\">" +
                    html_escape(text("title")) + "</span>";
  if (const auto* d = v.if_contains("durationSec"); d && d->is_double()) {
    auto s = std::llround(d->as_double());
    out += "<span class=\"duration\">" + std::to_string(s / 60) + ":" + (s % 60 < 10 ? "0" : "") +
           std::to_string(s % 60) + "</span>";
  }
  return out + "</a></li>";
}

// The HTML of the organization page, from the JSON of a list page.
std::string org_page_body(const std::string& slug, const json::object& page) {
  const auto& org = page.at("organization").as_object();
  std::string out = "<main class=\"org\"><h1>" + html_escape(std::string(org.at("name").as_string())) +
                    "</h1>\n<ul class=\"videos\">";
  const auto& videos = page.at("videos").as_array();
  for (const auto& v : videos) out += video_card(v.as_object());
  out += "</ul>\n";
  if (videos.empty()) out += "<p class=\"notice\">No public videos yet.</p>\n";
  if (const auto& next = page.at("nextCursor"); next.is_string())
    out += "<p><a rel=\"next\" class=\"next\" href=\"/o/" + html_escape(slug) +
           "?cursor=" + html_escape(url_encode(std::string(next.as_string()))) + "\">Next page</a></p>\n";
  return out + "</main>";
}

// GET/HEAD /o/:slug?cursor=: the public page, server-rendered.
asio::awaitable<response> org_page(sharing_api& api, context& ctx) {
  std::string body;
  std::optional<error> failure;
  try {
    body = co_await public_videos_body(api, ctx, 24);
  } catch (const error& e) {
    failure = e;
  }
  if (failure) {
    if (failure->code() != errc::not_found && failure->code() != errc::bad_request) throw *failure;
    std::string text = failure->code() == errc::not_found ? "There is no such page." : failure->what();
    response res = html_page(static_cast<status>(http_status_of(failure->code())), "Not found", "",
                             "<main class=\"notice\"><p>" + html_escape(text) + "</p></main>");
    res.set(http::field::cache_control, "no-store");
    co_return res;
  }
  auto page = json::parse(body).as_object();
  const auto& org = page.at("organization").as_object();
  response res =
      html_page(status::ok, std::string(org.at("name").as_string()), "", org_page_body(ctx.params.at("slug"), page));
  res.set(http::field::cache_control, "public, max-age=30");
  co_return res;
}

}  // namespace

void add_public_page_routes(http::router& r, sharing_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  using http::verb;
  r.add(verb::get, "/api/public/orgs/:slug", h(public_org));
  r.add(verb::get, "/api/public/orgs/:slug/videos", h(public_org_videos));
  r.add(verb::get, "/o/:slug", h(org_page));
}

}  // namespace reel::api
