// Handlers of docs/API.md "Videos" and "Streaming".
#pragma once

#include "api/scope.hpp"
#include "core/clock.hpp"
#include "core/offload.hpp"
#include "http/router.hpp"
#include "storage/blobs.hpp"
#include "store/database.hpp"
#include "store/videos.hpp"

#include <functional>

namespace reel::api {

struct video_services {
  store::db& db;
  worker_pool& pool;
  const storage::layout& files;
  const clock& time;
  std::uint64_t max_upload_bytes;
  int max_job_attempts = 3;
  // Told about every change of a video (the realtime layer listens); may be empty.
  std::function<void(std::string_view event, const store::video&)> on_change;
};

void add_video_routes(http::router& r, const guard& g, video_services& services);

// The title a new upload gets when none is given: the file name without
// its extension, or "Untitled".
std::string default_title(std::string_view filename);

// A client's file name made safe to store and show: no directories, no
// control characters, at most 255 bytes of valid UTF-8; "upload" if nothing is left.
std::string clean_filename(std::string_view name);

}  // namespace reel::api
