// The links people paste into oEmbed consumers: a share page (/v/:id) or an
// embed page (/embed/:id) of this server, optionally carrying a signed
// playback link (?token=). Pure functions, no I/O (fuzz/share_url.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reel::api {

struct share_target {
  enum class page { share, embed };
  page kind = page::share;
  std::string video_id;              // 1..64 of [A-Za-z0-9_-]
  std::optional<std::string> token;  // the first ?token=, percent-decoded; 1..k_max_token_bytes printable ASCII
};

inline constexpr std::size_t k_max_share_url_bytes = 2048;
inline constexpr std::size_t k_max_token_bytes = 200;

// Parses `url`: an absolute http(s) URL of any host (the host is not
// checked: a server behind several names answers for all of them) or an
// absolute path, whose path is exactly /v/<id> or /embed/<id> (one trailing
// '/' allowed), with an optional query (only `token` matters; other
// parameters are ignored) and fragment. Nullopt for anything else: another
// scheme, user info, another path, a bad id or token, a URL longer than
// k_max_share_url_bytes, bad percent-encoding, control characters or spaces.
std::optional<share_target> parse_share_url(std::string_view url);

// The target written back as a path and query ("/v/<id>?token=<token>"):
// parse_share_url of it gives the same target.
std::string share_path(const share_target& t);

// `s` percent-encoded for a query component (unreserved characters kept).
std::string url_encode(std::string_view s);

// `s` made safe as HTML text and as a double- or single-quoted attribute
// value: & < > " ' become entities.
std::string html_escape(std::string_view s);

}  // namespace reel::api
