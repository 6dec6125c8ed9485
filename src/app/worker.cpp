// The `reel worker` and `reel migrate` commands.
#include "app/reserve.hpp"
#include "app/serve.hpp"
#include "app/setup.hpp"
#include "cluster/db_events.hpp"
#include "core/async.hpp"
#include "core/events.hpp"
#include "core/log.hpp"
#include "db/migrations.hpp"
#include "model/json.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <optional>

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
  storage::layout files(storage_dir_of(cfg), cfg.storage_reserve_bytes);
  storage_reserve reserve(io, pool, cfg, files.space());
  reserve.start(db);
  // Events reach every API node's Socket.IO rooms: in a cluster through
  // Redis, else through the database, which the API nodes tail.
  auto cluster = make_cluster(cfg, io.get_executor(), wall_clock);
  std::optional<cluster::database_event_hub> db_hub;
  if (!cluster) db_hub.emplace(io, db, wall_clock);
  event_hub& hub = cluster ? static_cast<event_hub&>(cluster->hub) : *db_hub;
  jobs::processor processor(io, db, files, find_tools(), hub, wall_clock,
                            processor_settings_of(cfg, std::max(1u, cfg.workers)),
                            db::listen_for_jobs(*database, io.get_executor()));
  if (cluster) {
    processor.on_video_changed = [&cluster](const std::string& id) {
      cluster->line.publish(cluster::control_channel, {{"t", "video"}, {"id", id}});
    };
    cluster->line.start();
  }
  processor.start();
  log::info("worker started", {{"node", node_name_of(cfg)},
                               {"workers", std::max(1u, cfg.workers)},
                               {"storage_dir", storage_dir_of(cfg)},
                               {"redis", !cfg.redis_url.empty()}});
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    log::info("worker shutting down");
    reserve.stop();
    processor.stop([&] {
      // The last events (jobs put back in the queue) go out before the end.
      // What the coroutine uses are its parameters, kept in its frame: a
      // lambda's captures would die with this handler at its first suspension.
      auto last_words = [](asio::io_context& loop, cluster::database_event_hub* events,
                           cluster::services* link) -> asio::awaitable<void> {
        if (events) co_await events->flush(std::chrono::seconds(2));
        if (link) {
          co_await link->line.flush(std::chrono::seconds(2));
          link->line.stop();
        }
        loop.stop();
      };
      asio::co_spawn(io, last_words(io, db_hub ? &*db_hub : nullptr, cluster.get()),
                     log_failure("stopping the worker"));
    });
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
