// Operations endpoints: /healthz, /readyz, /metrics (docs/API.md, Operations).
#pragma once

#include "http/metrics.hpp"
#include "http/router.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reel::api {

// One dependency /readyz checks. `check` returns nullopt when usable, else
// the reason in words. It runs on the loop and must not block (offload).
// Without a `required` one the node is not ready (503: a balancer takes it
// out of rotation); without another one it still serves, degraded (200,
// "status": "degraded"), as without Redis, whose loss all nodes share.
struct readiness_check {
  std::string name;
  std::function<boost::asio::awaitable<std::optional<std::string>>()> check;
  bool required = true;
};

// Who may read /metrics on this router. The numbers describe the whole
// service (routes, tenants' activity, queue depth), so they are never public:
// with `token` set, a request needs `Authorization: Bearer <token>`; with
// `open`, anyone who reaches the router may (a separate, private listener);
// with neither, /metrics is not served here (404).
struct metrics_access {
  std::string token;
  bool open = false;
};

void add_ops_routes(http::router& r, http::metrics& m, std::vector<readiness_check> checks, metrics_access access = {});

// GET /metrics alone, for a separate listener.
void add_metrics_route(http::router& r, http::metrics& m, metrics_access access);

}  // namespace reel::api
