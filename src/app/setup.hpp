// What every command that runs reel's processes sets up the same way: the
// data directory, the database (migrated), the media tools and the workers'
// settings, from the config.
#pragma once

#include "cluster/services.hpp"
#include "core/clock.hpp"
#include "core/config.hpp"
#include "db/database.hpp"
#include "jobs/processor.hpp"
#include "media/child.hpp"
#include "media/ffmpeg.hpp"

#include <memory>

namespace reel::app {

// Creates the data directory (private to this user) and the storage
// directory, checks that storing a file works there (write, fsync, rename),
// or throws config_error.
void prepare_data_dir(const config& cfg);

// Where videos and uploads live: REEL_STORAGE_DIR, else the data directory.
std::string storage_dir_of(const config& cfg);

// This process's name in logs and the cluster: REEL_NODE_NAME, else host:pid.
std::string node_name_of(const config& cfg);

// The Redis-backed parts of a cluster node (not started), or null without
// REEL_REDIS_URL. Throws config_error for a URL that cannot be used.
std::unique_ptr<cluster::services> make_cluster(const config& cfg, boost::asio::any_io_executor ex, const clock& c,
                                                auth::throttle_limits throttle = {});

// Opens the configured database and applies the pending migrations; throws
// config_error with the reason when it cannot.
std::unique_ptr<db::database> open_database(const config& cfg, const clock& c);

// The key that signs playback links: REEL_SECRET_KEY, else one generated
// once and kept in the database (shared by every node that uses it).
std::string secret_key_of(const config& cfg, db::database& database, const clock& c);

// ffmpeg and ffprobe as found on the PATH.
media::paths find_tools();

// What every ffmpeg/ffprobe child may use (its CPU time follows its timeout).
media::child_limits child_limits_of(const config& cfg);

jobs::processor_settings processor_settings_of(const config& cfg, unsigned workers);

}  // namespace reel::app
