#include "app/serve.hpp"

#include "api/ops.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "core/system.hpp"
#include "http/loop_monitor.hpp"
#include "http/metrics.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <filesystem>

namespace reel::app {

namespace asio = boost::asio;

int run_serve(const config& cfg) {
  log::set_level(cfg.log_level);
  std::error_code fec;
  std::filesystem::create_directories(cfg.data_dir, fec);
  if (fec) throw config_error("The data directory " + cfg.data_dir + " cannot be created: " + fec.message() + ".");
  if (auto problem = sys::probe_writable(cfg.data_dir))
    throw config_error("The data directory is not usable: " + *problem + ".");
  auto fd_limit = sys::raise_fd_limit();

  asio::io_context io(1);
  worker_pool pool(cfg.threadpool_size);
  http::metrics metrics;
  http::router routes;

  std::vector<api::readiness_check> checks;
  // (Lambdas handed to offload are named first: see offload's comment.)
  checks.push_back({"storage", [&pool, dir = cfg.data_dir]() -> asio::awaitable<std::optional<std::string>> {
                      auto probe = [&dir] { return sys::probe_writable(dir); };
                      co_return co_await pool.offload(probe);
                    }});
  checks.push_back({"ffmpeg", [&pool]() -> asio::awaitable<std::optional<std::string>> {
                      auto find_tools = []() -> std::optional<std::string> {
                        for (const char* tool : {"ffmpeg", "ffprobe"})
                          if (!sys::find_executable(tool)) return std::string(tool) + " is not on the PATH";
                        return std::nullopt;
                      };
                      co_return co_await pool.offload(find_tools);
                    }});
  api::add_ops_routes(routes, metrics, std::move(checks));

  http::handler chain = http::compose(
      {
          http::request_id(),
          http::access_log(metrics),
          http::security_headers(cfg.secure_cookies),
          http::cors(cfg.cors_origins),
          http::error_handler(),
      },
      http::dispatch_route());

  http::server_options options;
  options.headers_timeout = cfg.headers_timeout;
  options.keepalive_timeout = cfg.keepalive_timeout;
  options.shutdown_timeout = cfg.shutdown_timeout;
  options.default_body_limit = cfg.max_json_bytes;
  http::server server(io, routes, chain, options);
  metrics.add_gauge("reel_open_connections", "HTTP connections open now.", "",
                    [&server] { return static_cast<double>(server.open_connections()); });
  metrics.add_gauge("reel_threadpool_size", "Threads for blocking and CPU work.", "",
                    [&pool] { return static_cast<double>(pool.size()); });

  asio::ip::tcp::endpoint bound;
  try {
    bound = server.listen(cfg.host, cfg.port);
  } catch (const boost::system::system_error& e) {
    throw config_error("Cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + e.code().message() +
                       ".");
  }
  server.start();
  http::loop_monitor lag(io, metrics);
  lag.start();

  log::info("listening", {{"address", bound.address().to_string()},
                          {"port", bound.port()},
                          {"data_dir", cfg.data_dir},
                          {"threadpool", cfg.threadpool_size},
                          {"fd_limit", fd_limit}});

  asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 0;
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("shutting down", {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
    server.shutdown([&] {
      lag.stop();
      signals.cancel();
      io.stop();
    });
    // A second signal while draining: stop at once.
    signals.async_wait([&](boost::system::error_code ec2, int) {
      if (ec2) return;
      log::warn("second signal: stopping without waiting");
      exit_code = 1;
      io.stop();
    });
  });

  io.run();
  pool.join();
  log::info("stopped");
  log::flush();
  return exit_code;
}

}  // namespace reel::app
