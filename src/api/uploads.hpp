// Resumable uploads: tus 1.0.0 at /api/uploads (docs/API.md "Resumable
// uploads", docs/PROTOCOLS.md §C) with the extensions creation,
// creation-with-upload, termination, expiration and checksum (sha1).
//
// Creating an upload creates its video (status `uploading`) and an empty
// file at the video's `original` path; PATCHes write into that file in
// place. The stored offset only moves after the bytes under it are fsynced,
// so after a crash the upload resumes at an offset whose bytes are on disk.
// The last byte moves the video to `queued` and enqueues its processing job
// in one transaction.
#pragma once

#include "api/scope.hpp"
#include "core/clock.hpp"
#include "core/events.hpp"
#include "core/offload.hpp"
#include "db/database.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "jobs/processor.hpp"
#include "storage/blobs.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace reel::api {

struct upload_services {
  db::gateway& db;
  worker_pool& pool;
  const storage::layout& files;
  const clock& time;
  std::uint64_t max_upload_bytes;
  int max_job_attempts;
  // An unfinished upload is removed this long after its last bytes.
  std::chrono::seconds expiry;
  event_hub& hub;
  jobs::processor& processor;
  // Uploads a request (or the expiry sweep) is working on now, with the
  // body a PATCH is reading (null otherwise): a second writer gets 423
  // instead of interleaving bytes; a termination stops the writer. Loop
  // thread only.
  std::unordered_map<std::string, http::body_reader*> busy{};
};

void add_upload_routes(http::router& r, const guard& g, upload_services& services);

// Adds `Tus-Resumable` to every response of the /api/uploads routes (errors
// included) and `Tus-Version` to 412s. Goes before error_handler().
http::middleware tus_headers();

// Removes uploads past their expiry: an unfinished one with its video and
// file (and `video:deleted`), a finished one's record only. Returns how many.
boost::asio::awaitable<std::size_t> remove_expired_uploads(upload_services& services);

// How often remove_expired_uploads should run for an expiry.
std::chrono::milliseconds upload_sweep_interval(std::chrono::seconds expiry);

// Parses an Upload-Metadata header (`key base64,key2 base64,key3`): keys
// unique, non-empty, without spaces or commas; values strict base64.
// nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(std::string_view header);

}  // namespace reel::api
