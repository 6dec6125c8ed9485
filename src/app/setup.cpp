#include "app/setup.hpp"

#include "app/reserve.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/system.hpp"
#include "db/accounts.hpp"
#include "db/migrations.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace reel::app {

void prepare_data_dir(const config& cfg) {
  if (auto problem = sys::make_private_dir(cfg.data_dir))
    throw config_error("The data directory " + cfg.data_dir + " cannot be used: " + *problem + ".");
  auto problem = sys::probe_writable(cfg.data_dir);
  // A volume filled up while reel was stopped: the ballast kept for this gives the room back.
  if (problem && storage::ballast(ballast_path_of(cfg)).release()) problem = sys::probe_writable(cfg.data_dir);
  if (problem) throw config_error("The data directory is not usable: " + *problem + ".");
  if (cfg.storage_dir.empty()) return;
  if (auto problem = sys::make_private_dir(cfg.storage_dir))
    throw config_error("The storage directory " + cfg.storage_dir + " cannot be used: " + *problem + ".");
  if (auto problem = sys::probe_writable(cfg.storage_dir))
    throw config_error("The storage directory is not usable: " + *problem + ".");
}

std::string storage_dir_of(const config& cfg) { return cfg.storage_dir.empty() ? cfg.data_dir : cfg.storage_dir; }

std::string node_name_of(const config& cfg) {
  if (!cfg.node_name.empty()) return cfg.node_name;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

std::unique_ptr<cluster::services> make_cluster(const config& cfg, boost::asio::any_io_executor ex, const clock& c,
                                                auth::throttle_limits throttle) {
  if (cfg.redis_url.empty()) return nullptr;
  redis::url where;
  try {
    where = redis::parse_url(cfg.redis_url);
  } catch (const std::invalid_argument& e) {
    throw config_error(std::string("REEL_REDIS_URL cannot be used: ") + e.what());
  }
  cluster::link_options options;
  options.node_name = node_name_of(cfg);
  return std::make_unique<cluster::services>(ex, where, std::move(options), c, throttle);
}

std::unique_ptr<db::database> open_database(const config& cfg, const clock& c) {
  try {
    // SQLite: a connection per pool thread and two spare; PostgreSQL: the configured pool.
    unsigned connections = db::is_postgres_url(cfg.database_url) ? cfg.database_pool_size : cfg.threadpool_size + 2;
    auto database = db::open_database(cfg.database_url, cfg.data_dir, connections, cfg.database_statement_timeout);
    int applied = db::migrate(*database, to_iso8601(c.now()));
    if (applied > 0) log::info("database migrated", {{"applied", applied}, {"backend", database->backend()}});
    return database;
  } catch (const db::db_error& e) {
    throw startup_error(std::string("The database cannot be used: ") + e.what() + ".");
  }
}

std::string secret_key_of(const config& cfg, db::database& database, const clock& c) {
  if (!cfg.secret_key.empty()) return cfg.secret_key;
  std::string key;
  try {
    database.transact(true, [&](db::transaction& s) {
      key = db::server_secret(s, "signing_key", ids::random_secret(32), to_iso8601(c.now()));
    });
  } catch (const db::db_error& e) {
    throw startup_error(std::string("The signing key cannot be read from the database: ") + e.what() + ".");
  }
  return key;
}

media::paths find_tools() {
  media::paths tools;
  tools.ffmpeg = sys::find_executable("ffmpeg").value_or("ffmpeg");
  tools.ffprobe = sys::find_executable("ffprobe").value_or("ffprobe");
  return tools;
}

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
  s.max_takeovers = static_cast<int>(cfg.job_max_takeovers);
  s.resource_retry_base = cfg.job_resource_retry_base;
  s.resource_retry_max = cfg.job_resource_retry_max;
  s.max_resource_retries = static_cast<int>(cfg.job_resource_retries);
  if (workers == 0) {  // claims nothing: needs no identity, takes no slot
    s.owner = node_name_of(cfg) + ":" + ids::fast_id().substr(0, 6);
    return s;
  }
  // A persisted identity, per node name, in this node's data dir. Without a
  // node name (node_name_of's pid changes at every restart): the host's name
  // and a hash of the data directory, so that processes on other data
  // directories sharing the database never take the same name.
  std::string node = cfg.node_name;
  if (node.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    std::error_code ec;
    auto dir = std::filesystem::weakly_canonical(cfg.data_dir, ec).string();
    std::uint32_t h = 2166136261u;  // FNV-1a: the same in every build
    for (unsigned char c : ec ? cfg.data_dir : dir) h = (h ^ c) * 16777619u;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", h);
    node = std::string(host) + "-" + hex;
  }
  try {
    s.identity = jobs::worker_identity::acquire(std::filesystem::path(cfg.data_dir) / "workers", node);
  } catch (const std::exception& e) {
    throw config_error(e.what());
  }
  s.owner = s.identity->name() + "/" + ids::fast_id().substr(0, 6);
  return s;
}

}  // namespace reel::app
