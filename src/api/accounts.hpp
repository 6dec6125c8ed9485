// Handlers of docs/API.md "Authentication and tenancy": /api/auth/*
// (src/api/accounts.cpp) and /api/orgs* (src/api/organizations.cpp). The
// rules are the domain's (src/domain/accounts.hpp, organizations.hpp).
#pragma once

#include "api/guard.hpp"
#include "core/ip_network.hpp"
#include "domain/accounts.hpp"
#include "domain/organizations.hpp"
#include "http/router.hpp"

#include <vector>

namespace reel::api {

struct account_api {
  domain::accounts& accounts;
  bool secure_cookies = false;
  // Proxies whose X-Forwarded-For names the client (login throttling counts per client address).
  std::vector<ip_network> trusted_proxies;
};

// /api/auth/register, login, logout, me.
void add_account_routes(http::router& r, const guard& g, account_api& api);
// /api/orgs and /api/orgs/:orgId/members[/:userId].
void add_organization_routes(http::router& r, const guard& g, domain::organizations& orgs);

}  // namespace reel::api
