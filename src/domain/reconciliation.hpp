// The reconciliation sweep: compares the data directory with the database
// and repairs what a crash (or lost files) left inconsistent, at start-up
// and periodically. Every operation that writes both files and rows is
// ordered so that a crash at any point leaves either nothing or something
// this sweep understands (docs/DESIGN.md, "Crash consistency"):
//   - a video directory without a row (a creation that crashed before its
//     row committed, a deletion that crashed after its row went): removed
//     once untouched for the grace period (creations in flight are younger);
//   - a video whose uploaded file is missing: failed, in words (its jobs
//     fail, its resumable upload is forgotten); a ready video whose outputs
//     are missing is processed again from its original (failed when that is
//     missing too; a ready video that still plays is left alone);
//   - a processing work directory (work-<job>) whose job is no longer
//     queued or running: removed;
//   - scratch directories of processes that are gone (storage/scratch.hpp).
// Safe when several processes sweep one data directory at once: removals
// are idempotent, and each row is repaired in a transaction that first
// checks (holding the row on PostgreSQL) that it is as it was seen.
// Coroutines on the loop thread; the files and the database on the pool.
#pragma once

#include "domain/videos.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace reel::domain {

struct reconcile_report {
  std::vector<std::string> orphans_removed;    // video ids whose directory had no row
  std::vector<std::string> failed_missing;     // videos failed: their uploaded file is gone
  std::vector<std::string> requeued;           // ready videos processed again: their outputs are gone
  std::vector<std::string> work_dirs_removed;  // job ids of stale work directories
  std::vector<std::string> scratch_removed;    // scratch directories of processes that are gone
  bool refused = false;                        // the storage looked unmounted: no row was touched
  bool anything() const {
    return !orphans_removed.empty() || !failed_missing.empty() || !requeued.empty() || !work_dirs_removed.empty() ||
           !scratch_removed.empty() || refused;
  }
};

class reconciler {
 public:
  reconciler(video_context c, std::chrono::seconds grace) : c_(c), grace_(grace) {}

  // One sweep; logs what it did. A sweep already running here makes this
  // return an empty report at once.
  boost::asio::awaitable<reconcile_report> run();

  // Called for each video row the sweep changed (caches drop it).
  std::function<void(const std::string& video_id)> on_video_changed;

 private:
  boost::asio::awaitable<void> sweep(reconcile_report& out);
  // The row of `seen` (as the sweep read it), if still so: failed, or processed again.
  boost::asio::awaitable<bool> fail_missing(const model::video& seen);
  boost::asio::awaitable<bool> requeue(const model::video& seen);
  void changed(const std::string& id) const;

  video_context c_;
  std::chrono::seconds grace_;
  bool running_ = false;
};

// The message a video gets when its uploaded file is missing.
inline constexpr const char* k_original_missing =
    "The uploaded file is missing from the server's storage; upload the video again.";

}  // namespace reel::domain
