#include "api/ops.hpp"

#include "api/handler.hpp"
#include "core/errors.hpp"

#include <openssl/crypto.h>
#include <boost/json/object.hpp>

namespace reel::api {

void add_ops_routes(http::router& r, http::metrics& m, std::vector<readiness_check> checks, metrics_access access) {
  r.add(http::verb::get, "/healthz", [](context&) -> asio::awaitable<response> {
    static const boost::json::object ok{{"status", "ok"}};
    co_return http::json_response(http::status::ok, ok);
  });

  r.add(http::verb::get, "/readyz", [checks = std::move(checks)](context&) -> asio::awaitable<response> {
    boost::json::object body, details;
    std::string failing, degraded;
    for (const auto& c : checks) {
      std::optional<std::string> problem;
      try {
        problem = co_await c.check();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      details[c.name] = problem ? boost::json::value(*problem) : boost::json::value("ok");
      std::string& list = c.required ? failing : degraded;
      if (problem) list += (list.empty() ? "" : ", ") + c.name;
    }
    if (!failing.empty()) {
      body["error"] = {{"code", "unavailable"}, {"message", "Not ready: " + failing + " not usable."}};
    } else if (!degraded.empty()) {
      body["status"] = "degraded";
      body["degraded"] = degraded;
    } else {
      body["status"] = "ready";
    }
    body["checks"] = std::move(details);
    co_return http::json_response(failing.empty() ? http::status::ok : http::status::service_unavailable, body);
  });

  add_metrics_route(r, m, std::move(access));
}

void add_metrics_route(http::router& r, http::metrics& m, metrics_access access) {
  if (!access.open && access.token.empty()) return;
  r.add(http::verb::get, "/metrics", [&m, access = std::move(access)](context& ctx) -> asio::awaitable<response> {
    if (!access.open) {
      std::string_view auth = ctx.header(http::field::authorization);
      std::string_view given = auth.starts_with("Bearer ") ? auth.substr(7) : std::string_view();
      // Compared in constant time, as a password would be.
      bool ok =
          given.size() == access.token.size() && CRYPTO_memcmp(given.data(), access.token.data(), given.size()) == 0;
      if (!ok) {
        response res =
            http::error_response(errc::unauthorized, "/metrics needs the metrics token (REEL_METRICS_TOKEN).");
        res.set(http::field::www_authenticate, "Bearer realm=\"reel metrics\"");
        co_return res;
      }
    }
    response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = m.render();
    res.prepare_payload();
    co_return res;
  });
}

}  // namespace reel::api
