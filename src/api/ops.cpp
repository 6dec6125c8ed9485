#include "api/ops.hpp"

#include <boost/json/object.hpp>

namespace reel::api {

namespace asio = boost::asio;
using http::context;
using http::response;

void add_ops_routes(http::router& r, http::metrics& m, std::vector<readiness_check> checks) {
  r.add(http::verb::get, "/healthz", [](context&) -> asio::awaitable<response> {
    static const boost::json::object ok{{"status", "ok"}};
    co_return http::json_response(http::status::ok, ok);
  });

  r.add(http::verb::get, "/readyz", [checks = std::move(checks)](context&) -> asio::awaitable<response> {
    boost::json::object body, details;
    std::string failing;
    for (const auto& c : checks) {
      std::optional<std::string> problem;
      try {
        problem = co_await c.check();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      details[c.name] = problem ? boost::json::value(*problem) : boost::json::value("ok");
      if (problem) failing += (failing.empty() ? "" : ", ") + c.name;
    }
    if (failing.empty()) {
      body["status"] = "ready";
    } else {
      body["error"] = {{"code", "unavailable"}, {"message", "Not ready: " + failing + " not usable."}};
    }
    body["checks"] = std::move(details);
    co_return http::json_response(failing.empty() ? http::status::ok : http::status::service_unavailable, body);
  });

  r.add(http::verb::get, "/metrics", [&m](context&) -> asio::awaitable<response> {
    response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = m.render();
    res.prepare_payload();
    co_return res;
  });
}

}  // namespace reel::api
