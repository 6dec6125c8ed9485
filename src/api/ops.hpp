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
struct readiness_check {
  std::string name;
  std::function<boost::asio::awaitable<std::optional<std::string>>()> check;
};

void add_ops_routes(http::router& r, http::metrics& m, std::vector<readiness_check> checks);

}  // namespace reel::api
