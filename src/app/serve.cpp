#include "app/serve.hpp"

#include "api/accounts.hpp"
#include "api/ops.hpp"
#include "api/scope.hpp"
#include "api/uploads.hpp"
#include "api/videos.hpp"
#include "api/web.hpp"
#include "auth/service.hpp"
#include "core/events.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "core/system.hpp"
#include "db/jobs.hpp"
#include "db/migrations.hpp"
#include "http/loop_monitor.hpp"
#include "http/metrics.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "jobs/processor.hpp"
#include "media/thumbnailer.hpp"
#include "model/json.hpp"
#include "realtime/socketio.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

namespace reel::app {

namespace asio = boost::asio;

media::paths find_tools() {
  media::paths tools;
  tools.ffmpeg = sys::find_executable("ffmpeg").value_or("ffmpeg");
  tools.ffprobe = sys::find_executable("ffprobe").value_or("ffprobe");
  return tools;
}

// What every ffmpeg/ffprobe child may use (its CPU time follows its timeout).
media::child_limits child_limits_of(const config& cfg) { return {.memory_bytes = cfg.ffmpeg_memory_mb << 20}; }

jobs::processor_settings processor_settings_of(const config& cfg, unsigned workers) {
  jobs::processor_settings s;
  s.workers = workers;
  s.lease = cfg.job_lease;
  s.poll = cfg.job_poll;
  s.retry_base = cfg.job_retry_base;
  s.max_attempts = static_cast<int>(cfg.job_max_attempts);
  s.limits.max_pixels = cfg.max_video_pixels;
  s.limits.max_fps = cfg.max_video_fps;
  s.limits.max_seconds = static_cast<double>(cfg.max_video_seconds.count());
  s.child_limits = child_limits_of(cfg);
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  s.owner = std::string(host) + ":" + std::to_string(::getpid()) + ":" + ids::fast_id().substr(0, 6);
  return s;
}

std::unique_ptr<db::database> open_store(const config& cfg, const clock& c) {
  try {
    auto database = db::open_database(cfg.database_url, cfg.data_dir, cfg.threadpool_size + 2);
    int applied = db::migrate(*database, to_iso8601(c.now()));
    if (applied > 0) log::info("database migrated", {{"applied", applied}, {"backend", database->backend()}});
    return database;
  } catch (const db::db_error& e) {
    throw config_error(std::string("The database cannot be used: ") + e.what() + ".");
  }
}

void prepare_data_dir(const config& cfg) {
  if (auto problem = sys::make_private_dir(cfg.data_dir))
    throw config_error("The data directory " + cfg.data_dir + " cannot be used: " + *problem + ".");
}

int run_worker(const config& cfg) {
  log::set_level(cfg.log_level);
  std::signal(SIGPIPE, SIG_IGN);
  prepare_data_dir(cfg);
  asio::io_context io(1);
  worker_pool pool(cfg.threadpool_size);
  system_clock wall_clock;
  auto database = open_store(cfg, wall_clock);
  db::gateway db(pool, *database);
  storage::layout files(cfg.data_dir);
  local_event_hub hub;  // events of a worker process reach clients through Redis in a scale-out setup
  jobs::processor processor(io, db, files, find_tools(), hub, wall_clock,
                            processor_settings_of(cfg, std::max(1u, cfg.workers)));
  processor.start();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    log::info("worker shutting down");
    processor.stop([&] { io.stop(); });
  });
  io.run();
  pool.join();
  log::info("stopped");
  log::flush();
  return 0;
}

int run_migrate(const config& cfg) {
  log::set_level(cfg.log_level);
  prepare_data_dir(cfg);
  system_clock c;
  auto database = open_store(cfg, c);
  std::printf("database schema at version %d\n", db::schema_version(*database));
  log::flush();
  return 0;
}

int run_serve(const config& cfg) {
  log::set_level(cfg.log_level);
  // sendfile(2) to a socket the peer closed raises SIGPIPE; the error code is enough.
  std::signal(SIGPIPE, SIG_IGN);
  prepare_data_dir(cfg);
  if (auto problem = sys::probe_writable(cfg.data_dir))
    throw config_error("The data directory is not usable: " + *problem + ".");
  auto fd_limit = sys::raise_fd_limit();
  bool short_slice = sys::request_short_slice();  // this thread runs the loop

  asio::io_context io(1);
  worker_pool pool(cfg.threadpool_size);
  system_clock wall_clock;
  auto database = open_store(cfg, wall_clock);
  db::gateway db(pool, *database);
  http::metrics metrics;
  http::router routes;

  auth::account_settings account_settings;
  account_settings.session_ttl = cfg.session_ttl;
  auth::service accounts(db, wall_clock, account_settings);
  api::guard guard(accounts);
  api::add_account_routes(routes, accounts, guard,
                          {.secure_cookies = cfg.secure_cookies, .trusted_proxies = cfg.trusted_proxies});

  storage::layout files(cfg.data_dir);
  if (auto leftovers = files.prepare()) log::info("removed unfinished uploads", {{"count", leftovers}});
  local_event_hub hub;
  media::paths tools = find_tools();
  jobs::processor processor(io, db, files, tools, hub, wall_clock, processor_settings_of(cfg, cfg.workers));
  media::thumbnailer thumbnails(io, pool, tools, cfg.thumbnail_concurrency, cfg.thumbnail_cache_bytes,
                                child_limits_of(cfg));
  asio::co_spawn(io, thumbnails.load(files.root()), [](std::exception_ptr e) {
    if (e) log::warn("the thumbnail cache could not be read; it starts empty");
  });
  api::video_services video_services{
      db,  pool,      files,     wall_clock, cfg.max_upload_bytes, static_cast<int>(cfg.job_max_attempts),
      hub, processor, thumbnails};
  video_services.lists = api::list_cache(cfg.list_cache);
  processor.on_video_changed = [&video_services](const std::string& id) { video_services.streams.invalidate(id); };
  // Every change to an organization's videos goes through the hub: it drops that organization's cached lists.
  hub.subscribe([&video_services](const event& e) { video_services.lists.changed(e.organization_id); });
  api::add_video_routes(routes, guard, video_services);
  api::upload_services upload_services{
      db,  pool,     files, wall_clock, cfg.max_upload_bytes, static_cast<int>(cfg.job_max_attempts), cfg.upload_expiry,
      hub, processor};
  api::add_upload_routes(routes, guard, upload_services);

  realtime::socketio_options realtime_options;
  realtime_options.ping_interval = cfg.ping_interval;
  realtime_options.ping_timeout = cfg.ping_timeout;
  realtime_options.connect_timeout = cfg.realtime_connect_timeout;
  realtime_options.max_sessions_per_address = cfg.realtime_max_per_address;
  realtime_options.trusted_proxies = cfg.trusted_proxies;
  realtime::socketio_server realtime(io, accounts, hub, realtime_options);
  realtime.add_routes(routes);
  accounts.on_logout = [&realtime](const std::string& session_id) { realtime.session_revoked(session_id); };
  accounts.on_membership_changed = [&realtime](const std::string& org_id, const std::string& user_id,
                                               std::optional<model::role> role) {
    realtime.membership_changed(org_id, user_id, role);
  };

  std::vector<api::readiness_check> checks;
  checks.push_back({"database", [&db]() -> asio::awaitable<std::optional<std::string>> {
                      try {
                        co_await db.read([](db::transaction& s) { s.query("SELECT 1"); });
                      } catch (const std::exception& e) {
                        // /readyz is public: the detail (paths, server messages) goes to the log only.
                        log::warn("readiness: the database is not usable", {{"error", e.what()}});
                        co_return std::string("the database is not usable");
                      }
                      co_return std::nullopt;
                    }});
  // (Lambdas handed to offload are named first: see offload's comment.)
  checks.push_back({"storage", [&pool, dir = cfg.data_dir]() -> asio::awaitable<std::optional<std::string>> {
                      auto probe = [&dir] { return sys::probe_writable(dir); };
                      auto problem = co_await pool.offload(probe);
                      if (!problem) co_return std::nullopt;
                      log::warn("readiness: the data directory is not writable", {{"error", *problem}});
                      co_return std::string("the data directory is not writable");
                    }});
  checks.push_back({"ffmpeg", [&pool]() -> asio::awaitable<std::optional<std::string>> {
                      auto find_tools = []() -> std::optional<std::string> {
                        for (const char* tool : {"ffmpeg", "ffprobe"})
                          if (!sys::find_executable(tool)) return std::string(tool) + " is not on the PATH";
                        return std::nullopt;
                      };
                      co_return co_await pool.offload(find_tools);
                    }});
  api::add_ops_routes(routes, metrics, std::move(checks), {.token = cfg.metrics_token});
  std::filesystem::path web_dir = cfg.web_dir.empty() ? api::default_web_dir() : std::filesystem::path(cfg.web_dir);
  api::add_web_routes(routes, pool, web_dir);

  http::handler chain = http::compose(
      {
          http::request_id(),
          http::access_log(metrics),
          http::security_headers(cfg.secure_cookies),
          http::cors(cfg.cors_origins),
          api::tus_headers(),
          http::error_handler(),
      },
      http::dispatch_route());

  http::server_options options;
  options.headers_timeout = cfg.headers_timeout;
  options.keepalive_timeout = cfg.keepalive_timeout;
  options.shutdown_timeout = cfg.shutdown_timeout;
  options.default_body_limit = cfg.max_json_bytes;
  options.max_connections_per_address = cfg.max_connections_per_address;
  options.unlimited_peers = cfg.trusted_proxies;
  http::server server(io, routes, chain, options);
  metrics.add_gauge("reel_open_connections", "HTTP connections open now.", "",
                    [&server] { return static_cast<double>(server.open_connections()); });
  metrics.add_gauge("reel_threadpool_size", "Threads for blocking and CPU work.", "",
                    [&pool] { return static_cast<double>(pool.size()); });
  metrics.add_gauge("reel_realtime_sessions", "Socket.IO (Engine.IO) sessions open now.", "",
                    [&realtime] { return static_cast<double>(realtime.open_sessions()); });
  metrics.add_gauge("reel_thumbnail_renders_total", "On-demand thumbnails rendered by ffmpeg.", "",
                    [&thumbnails] { return static_cast<double>(thumbnails.runs()); });
  metrics.add_gauge("reel_thumbnail_cache_bytes", "On-demand thumbnails kept on disk, in bytes.", "",
                    [&thumbnails] { return static_cast<double>(thumbnails.cached_bytes()); });
  metrics.add_gauge("reel_jobs_running_here", "Processing jobs running in this process.", "",
                    [&processor] { return static_cast<double>(processor.running_jobs()); });
  // Jobs by state, refreshed every few seconds (a query, so not per scrape).
  auto job_counts = std::make_shared<std::map<std::string, double>>();
  for (const char* state : {"queued", "running", "succeeded", "failed", "cancelled"})
    metrics.add_gauge("reel_jobs", "Jobs in the queue by state.", std::string("state=\"") + state + "\"",
                      [job_counts, state] {
                        auto it = job_counts->find(state);
                        return it == job_counts->end() ? 0.0 : it->second;
                      });
  asio::steady_timer job_count_timer(io);
  std::function<void()> refresh_job_counts = [&] {
    asio::co_spawn(
        io,
        [&db, job_counts]() -> asio::awaitable<void> {
          auto rows = co_await db.read([](db::transaction& s) { return db::count_jobs_by_state(s); });
          job_counts->clear();
          for (const auto& [state, n] : rows)
            (*job_counts)[std::string(model::state_name(state))] = static_cast<double>(n);
        },
        [&](std::exception_ptr) {
          job_count_timer.expires_after(std::chrono::seconds(5));
          job_count_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec) refresh_job_counts();
          });
        });
  };
  refresh_job_counts();

  asio::ip::tcp::endpoint bound;
  try {
    bound = server.listen(cfg.host, cfg.port);
  } catch (const boost::system::system_error& e) {
    throw config_error("Cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + e.code().message() +
                       ".");
  }
  server.start();
  // /metrics on a listener of its own (a private address), when configured.
  http::router metrics_routes;
  api::add_metrics_route(metrics_routes, metrics, {.open = true});
  http::handler metrics_chain = http::compose({http::request_id(), http::error_handler()}, http::dispatch_route());
  std::optional<http::server> metrics_server;
  if (cfg.metrics_port != 0) {
    metrics_server.emplace(io, metrics_routes, metrics_chain, options);
    try {
      auto at = metrics_server->listen(cfg.metrics_host, cfg.metrics_port);
      log::info("metrics listening", {{"address", at.address().to_string()}, {"port", at.port()}});
    } catch (const boost::system::system_error& e) {
      throw config_error("Cannot listen for metrics on " + cfg.metrics_host + ":" + std::to_string(cfg.metrics_port) +
                         ": " + e.code().message() + ".");
    }
    metrics_server->start();
  }
  processor.start();
  http::loop_monitor lag(io, metrics);
  lag.start();

  log::info("listening", {{"address", bound.address().to_string()},
                          {"port", bound.port()},
                          {"data_dir", cfg.data_dir},
                          {"threadpool", cfg.threadpool_size},
                          {"fd_limit", fd_limit},
                          {"short_slice", short_slice}});

  // Housekeeping: forget sessions that expired or were revoked.
  asio::steady_timer sweep(io);
  std::function<void()> schedule_sweep = [&] {
    sweep.expires_after(std::chrono::hours(6));
    sweep.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      asio::co_spawn(io, accounts.sweep_sessions(), [&](std::exception_ptr e, std::int64_t n) {
        if (e)
          log::warn("session sweep failed");
        else if (n > 0)
          log::info("sessions swept", {{"removed", n}});
        schedule_sweep();
      });
    });
  };
  schedule_sweep();
  // Unfinished resumable uploads past their expiry go, with their videos and files.
  asio::steady_timer upload_sweep(io);
  std::function<void()> schedule_upload_sweep = [&] {
    upload_sweep.expires_after(api::upload_sweep_interval(cfg.upload_expiry));
    upload_sweep.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      asio::co_spawn(io, api::remove_expired_uploads(upload_services), [&](std::exception_ptr e, std::size_t) {
        if (e) log::warn("upload sweep failed");
        schedule_upload_sweep();
      });
    });
  };
  schedule_upload_sweep();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 0;
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("shutting down", {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
    // Stop accepting and let requests finish; meanwhile stop the workers
    // (their children are killed and their jobs put back in the queue).
    auto pending = std::make_shared<int>(metrics_server ? 3 : 2);
    auto one_done = [&, pending] {
      if (--*pending > 0) return;
      lag.stop();
      sweep.cancel();
      upload_sweep.cancel();
      job_count_timer.cancel();
      signals.cancel();
      io.stop();
    };
    realtime.stop();  // WebSockets and held polls are not requests that finish by themselves
    server.shutdown(one_done);
    if (metrics_server) metrics_server->shutdown(one_done);
    processor.stop(one_done);
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
