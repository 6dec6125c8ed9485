// Handlers of docs/api-webhooks.md: an organization's webhook endpoints,
// their delivery logs, redelivery and test events (admin or owner). The
// rules are the domain's (src/domain/webhooks.hpp).
#pragma once

#include "api/guard.hpp"
#include "domain/webhooks.hpp"
#include "http/router.hpp"

namespace reel::api {

void add_webhook_routes(http::router& r, const guard& g, domain::webhooks& webhooks);

}  // namespace reel::api
