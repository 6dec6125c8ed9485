// Handlers of docs/API.md's password reset: POST /api/auth/forgot and
// POST /api/auth/reset, for logged-out callers (no session, no cookie
// needed). The rules are the domain's (src/domain/recovery.hpp).
#pragma once

#include "core/ip_network.hpp"
#include "domain/recovery.hpp"
#include "http/router.hpp"

#include <vector>

namespace reel::api {

struct recovery_api {
  domain::recovery& recovery;
  // Proxies whose X-Forwarded-For names the client (requests are counted per client address).
  std::vector<ip_network> trusted_proxies;
};

void add_recovery_routes(http::router& r, recovery_api& api);

}  // namespace reel::api
