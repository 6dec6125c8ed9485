// Resumable uploads: tus 1.0.0 at /api/uploads (docs/API.md "Resumable
// uploads", docs/PROTOCOLS.md §C) with the extensions creation,
// creation-with-upload, termination, expiration and checksum (sha1).
// The protocol is spoken here; what an upload is and when it completes is
// the domain's (src/domain/uploads.hpp).
//
// PATCHes write into the video's original file in place. The stored offset
// only moves after the bytes under it are fsynced, so after a crash the
// upload resumes at an offset whose bytes are on disk.
#pragma once

#include "api/guard.hpp"
#include "api/tus.hpp"
#include "core/offload.hpp"
#include "domain/uploads.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "storage/blobs.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reel::api {

struct upload_api {
  domain::uploads& uploads;
  worker_pool& pool;
  const storage::layout& files;
  std::uint64_t max_upload_bytes;
};

void add_upload_routes(http::router& r, const guard& g, upload_api& api);

// How often expired uploads should be swept for an expiry.
std::chrono::milliseconds upload_sweep_interval(std::chrono::seconds expiry);

}  // namespace reel::api
