// Handlers of docs/API.md "Authentication and tenancy": /api/auth/* and /api/orgs*.
#pragma once

#include "api/scope.hpp"
#include "auth/service.hpp"
#include "http/router.hpp"

namespace reel::api {

struct accounts_options {
  bool secure_cookies = false;
};

void add_account_routes(http::router& r, auth::service& accounts, const guard& g, accounts_options options);

}  // namespace reel::api
