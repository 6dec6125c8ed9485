#include "http/same_site.hpp"

#include <cctype>

namespace reel::http {

namespace {

// "https://Example.com:8443/path" → "example.com:8443" (scheme and path dropped, lower case).
std::string authority_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  url.remove_prefix(scheme_end + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  std::string out(url);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool same_host(std::string_view url, const context& ctx) {
  std::string host(ctx.header(field::host));
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !host.empty() && authority_of(url) == host;
}

}  // namespace

std::optional<std::string> cross_site(const context& ctx, std::span<const std::string> trusted_origins) {
  std::string_view origin = ctx.header(field::origin);
  if (!origin.empty()) {
    if (same_host(origin, ctx)) return std::nullopt;
    for (const auto& o : trusted_origins)
      if (o == origin) return std::nullopt;
    return "its Origin (" + std::string(origin.substr(0, 100)) + ") is not this site";
  }
  std::string_view fetch_site = ctx.header("Sec-Fetch-Site");
  if (!fetch_site.empty()) {
    if (fetch_site == "same-origin" || fetch_site == "none") return std::nullopt;
    return "it comes from another site (Sec-Fetch-Site: " + std::string(fetch_site.substr(0, 20)) + ")";
  }
  std::string_view referer = ctx.header(field::referer);
  if (!referer.empty() && !same_host(referer, ctx)) {
    for (const auto& o : trusted_origins)
      if (authority_of(o) == authority_of(referer)) return std::nullopt;
    return "its Referer is another site";
  }
  return std::nullopt;
}

}  // namespace reel::http
