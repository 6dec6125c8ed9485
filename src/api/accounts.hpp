// Handlers of docs/API.md "Authentication and tenancy": /api/auth/* and /api/orgs*.
#pragma once

#include "api/scope.hpp"
#include "auth/service.hpp"
#include "core/ip_network.hpp"
#include "http/router.hpp"

#include <vector>

namespace reel::api {

struct accounts_options {
  bool secure_cookies = false;
  // Proxies whose X-Forwarded-For names the client (login throttling counts per client address).
  std::vector<ip_network> trusted_proxies;
};

void add_account_routes(http::router& r, auth::service& accounts, const guard& g, accounts_options options);

}  // namespace reel::api
