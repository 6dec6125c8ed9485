// Whether a request comes from a page of this site: what stands between a
// session cookie and cross-site request forgery (and cross-site WebSocket
// hijacking), as OWASP's CSRF cheat sheet checks it.
#pragma once

#include "http/message.hpp"

#include <optional>
#include <span>
#include <string>

namespace reel::http {

// Checks the request's Origin (scheme://host[:port]: the Host it was sent
// to, or one of `trusted_origins`); without one, Sec-Fetch-Site
// (same-origin or none); without that, the Referer's origin. A request with
// none of the three (not a browser's) passes. Returns why not, or nullopt.
std::optional<std::string> cross_site(const context& ctx, std::span<const std::string> trusted_origins);

}  // namespace reel::http
