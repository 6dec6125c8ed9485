// The `reel worker` and `reel migrate` commands.
#include "app/serve.hpp"
#include "app/setup.hpp"
#include "core/events.hpp"
#include "core/log.hpp"
#include "db/migrations.hpp"
#include "model/json.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>

namespace reel::app {

namespace asio = boost::asio;

int run_worker(const config& cfg) {
  log::set_level(cfg.log_level);
  std::signal(SIGPIPE, SIG_IGN);
  prepare_data_dir(cfg);
  asio::io_context io(1);
  worker_pool pool(cfg.threadpool_size);
  system_clock wall_clock;
  auto database = open_database(cfg, wall_clock);
  db::gateway db(pool, *database);
  storage::layout files(cfg.data_dir);
  local_event_hub hub;  // events of a worker process reach clients through Redis in a scale-out setup
  jobs::processor processor(io, db, files, find_tools(), hub, wall_clock,
                            processor_settings_of(cfg, std::max(1u, cfg.workers)),
                            db::listen_for_jobs(*database, io.get_executor()));
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
  auto database = open_database(cfg, c);
  std::printf("database schema at version %d\n", db::schema_version(*database));
  log::flush();
  return 0;
}

}  // namespace reel::app
