// What every command that runs reel's processes sets up the same way: the
// data directory, the database (migrated), the media tools and the workers'
// settings, from the config.
#pragma once

#include "core/clock.hpp"
#include "core/config.hpp"
#include "db/database.hpp"
#include "jobs/processor.hpp"
#include "media/child.hpp"
#include "media/ffmpeg.hpp"

#include <memory>

namespace reel::app {

// Creates the data directory (private to this user) or throws config_error.
void prepare_data_dir(const config& cfg);

// Opens the configured database and applies the pending migrations; throws
// config_error with the reason when it cannot.
std::unique_ptr<db::database> open_database(const config& cfg, const clock& c);

// ffmpeg and ffprobe as found on the PATH.
media::paths find_tools();

// What every ffmpeg/ffprobe child may use (its CPU time follows its timeout).
media::child_limits child_limits_of(const config& cfg);

jobs::processor_settings processor_settings_of(const config& cfg, unsigned workers);

}  // namespace reel::app
