// Handlers of docs/api-pages.md: the embeddable player (/embed/:id), the
// share page with link-preview tags (/v/:id) and oEmbed (/oembed) in
// src/api/sharing.cpp; an organization's public page (/o/:slug,
// /api/public/orgs/:slug[/videos]) in src/api/public_pages.cpp. Pages are
// server-rendered HTML; their scripts are static files (web/static/embed.js).
#pragma once

#include "api/caches.hpp"
#include "api/guard.hpp"
#include "core/ip_network.hpp"
#include "domain/organizations.hpp"
#include "domain/sharing.hpp"
#include "domain/videos.hpp"
#include "http/router.hpp"

#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel::api {

struct sharing_api {
  domain::videos& videos;
  domain::organizations& organizations;
  domain::sharing& sharing;
  // REEL_PUBLIC_URL: the base of absolute links; "" = from the request's Host.
  std::string public_url;
  // Peers whose X-Forwarded-Proto is believed.
  std::vector<ip_network> trusted_proxies;
  // Public video lists as sent; an organization's events drop its entries.
  list_cache lists{std::chrono::seconds(30)};
  // Organizations by slug, remembered as long as the lists (a changed slug
  // or name shows within that time). Loop thread only.
  struct slug_entry {
    model::organization org;
    std::chrono::steady_clock::time_point until;
  };
  std::unordered_map<std::string, slug_entry> slugs{};
};

// Every route of docs/api-pages.md (the public page's routes too).
void add_sharing_routes(http::router& r, const guard& g, sharing_api& api);
// /o/:slug, /api/public/orgs/:slug and /api/public/orgs/:slug/videos.
void add_public_page_routes(http::router& r, sharing_api& api);

// What the two handler files share.

// The base of absolute links ("https://videos.example.com", no '/' at the
// end): REEL_PUBLIC_URL, else http://<Host> (https:// when a trusted proxy
// says X-Forwarded-Proto: https); a Host that is not a plain host[:port]
// becomes localhost.
std::string link_base(const sharing_api& api, const http::context& ctx);

// A server-rendered page: `head` (after <meta charset> and the title) and
// `body`, with `title` escaped here; text/html, not stored by shared caches.
// `body_class`: the <body>'s class (web/static/embed.css styles "page" and "embed").
http::response html_page(http::status s, std::string_view title, std::string_view head, std::string_view body,
                         std::string_view body_class = "page");

// The relative poster URL of a video ("/api/stream/<id>/thumbnail.jpg"),
// with `v=<poster version>` once a poster was chosen (a new URL for caches
// and link previews when it changes) and `token=` when played by a link.
std::string poster_path(const model::video& v, const std::optional<std::string>& token);

}  // namespace reel::api
