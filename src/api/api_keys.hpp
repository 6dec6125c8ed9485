// Handlers of docs/api-keys.md: /api/orgs/:orgId/api-keys, for the
// organization's admins and owners signed in. The rules are the domain's
// (src/domain/api_keys.hpp).
#pragma once

#include "api/guard.hpp"
#include "domain/api_keys.hpp"
#include "http/router.hpp"

namespace reel::api {

void add_api_key_routes(http::router& r, const guard& g, domain::api_keys& keys);

}  // namespace reel::api
