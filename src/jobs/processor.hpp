// The processing side of reel: workers that claim `process_video` jobs
// from the durable queue in the database, hold them with a lease they
// heartbeat, and run the pipeline (probe → poster → MP4 + HLS + storyboard) in ffmpeg
// child processes. Coroutines on the loop thread; the heavy work is in the
// children, the blocking file work on the pool.
#pragma once

#include "core/clock.hpp"
#include "core/events.hpp"
#include "db/database.hpp"
#include "db/jobs.hpp"
#include "jobs/identity.hpp"
#include "media/child.hpp"
#include "media/failure.hpp"
#include "media/ffmpeg.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reel::jobs {

struct processor_settings {
  unsigned workers = 1;
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds poll{1'000};
  std::chrono::milliseconds retry_base{5'000};
  int max_attempts = 3;
  // A job whose worker died (its lease taken over, or reclaimed by the
  // restarted process) more than this many times fails, in words: it may be
  // what kills its workers. Takeovers do not count as attempts.
  int max_takeovers = 5;
  // Resource failures (disk full, out of descriptors, I/O errors, a child
  // that cannot start) are retried after resource_retry_base, doubling up to
  // resource_retry_max, at most max_resource_retries times (then failed);
  // they do not count as attempts.
  std::chrono::milliseconds resource_retry_base{30'000};
  std::chrono::milliseconds resource_retry_max{600'000};
  int max_resource_retries = 50;
  // This process's persisted identity (nullptr: none). Its jobs still
  // running under that name were left by a dead process: start() reclaims
  // them at once. `owner` then starts with identity->name() + "/".
  std::shared_ptr<const worker_identity> identity;
  std::string owner;  // names this process in lease_owner, e.g. "node/w0/x1y2z3"
  // What a source may be (refused after the probe, in words, no retries)
  // and what ffmpeg/ffprobe may use (RLIMIT_AS; RLIMIT_CPU from each run's timeout).
  media::limits limits;
  media::child_limits child_limits;
};

class processor {
 public:
  // `job_listener` (db::listen_for_jobs; nullptr on SQLite) hears the jobs
  // other processes enqueue: start() starts it when there are workers, and
  // each notification wakes the idle ones as notify() does.
  processor(boost::asio::io_context& io, db::gateway& db, const storage::layout& files, media::paths tools,
            event_hub& hub, const clock& c, processor_settings settings,
            std::unique_ptr<db::listener> job_listener = nullptr);
  processor(const processor&) = delete;
  processor& operator=(const processor&) = delete;

  void start();
  // Stops claiming; kills running children and puts their jobs back in the
  // queue; `done` runs once every worker has stopped.
  void stop(std::function<void()> done);
  // A job was enqueued (by this process, or by another one that the job
  // listener heard): wake the idle workers now. A worker that is claiming
  // at that moment and finds nothing looks again at once instead of idling.
  void notify();
  // The video is being deleted: stops its processing (its ffmpeg is killed)
  // and completes once the job no longer touches the video's files, so the
  // caller can remove them without the job recreating any.
  boost::asio::awaitable<void> cancel_video(const std::string& video_id);
  // Called whenever the pipeline changed a video row (cache invalidation).
  std::function<void(const std::string& video_id)> on_video_changed;
  // Fault injection for tests: runs on the loop just before the outputs
  // are stored (e.g. to fill the disk at that moment). Empty in production.
  std::function<void()> before_storing_outputs;

  std::size_t running_jobs() const noexcept { return running_.size(); }

 private:
  struct job_run;
  struct job_outcome;
  struct transcode_progress;
  struct early_watch;
  using ladder = std::vector<media::rendition>;

  boost::asio::awaitable<void> run_worker(unsigned index);
  boost::asio::awaitable<void> run_heartbeat(std::shared_ptr<job_run> run);
  // A claimed job from start to its recorded outcome; never throws.
  boost::asio::awaitable<void> run_job(std::shared_ptr<job_run> run);
  // Runs the job's pipeline and says how it ended; never throws.
  boost::asio::awaitable<job_outcome> process_job(job_run& run);
  // Writes what the outcome means for the job and its video (requeue,
  // retry, fail, cancel) and tells the users; logs a failure to do so.
  boost::asio::awaitable<void> record_outcome(job_run& run, const job_outcome& outcome);
  boost::asio::awaitable<void> record_failure(job_run& run, const std::string& reason, media::failure_kind kind,
                                              const std::string& now);
  // Puts the jobs that this identity's previous (dead) holder left running back in the queue.
  boost::asio::awaitable<void> reclaim_own_jobs();

  // The pipeline and its steps, in order. Each step throws job_stopped when
  // the run was stopped, permanent_failure, resource_failure or
  // transient_failure when it failed.
  boost::asio::awaitable<void> process_video(job_run& run);
  boost::asio::awaitable<void> begin_processing(job_run& run);
  boost::asio::awaitable<media::probe_result> probe_source(job_run& run);
  // Early playback (docs/API.md "Early playback"): for a source that can be
  // remuxed, a stream copy into HLS segments in the video's directory; the
  // video is published playable once its first segment is listed. Best
  // effort: a failed copy leaves the video unplayable until it is ready.
  boost::asio::awaitable<void> make_early_rendition(job_run& run, const media::probe_result& probe);
  boost::asio::awaitable<void> watch_early_rendition(job_run& run, early_watch& watch);
  boost::asio::awaitable<void> publish_playable(job_run& run);
  boost::asio::awaitable<void> make_poster(job_run& run, const media::probe_result& probe);
  boost::asio::awaitable<void> transcode(job_run& run, const media::probe_result& probe, const ladder& renditions);
  boost::asio::awaitable<void> run_progress_reporter(job_run& run, transcode_progress& progress);
  // The storyboard's sheets, from the tiles the transcode wrote (a second,
  // small ffmpeg run that decodes only those tiles).
  boost::asio::awaitable<void> make_storyboard_sheets(job_run& run, const media::probe_result& probe);
  // The outputs (the MP4, probed, and each HLS rendition's total) against
  // the probed duration: a short one fails, permanently, in words.
  boost::asio::awaitable<void> check_output_durations(job_run& run, const media::probe_result& probe,
                                                      const ladder& renditions);
  boost::asio::awaitable<std::string> install_outputs(job_run& run, const media::probe_result& probe,
                                                      const ladder& renditions);
  boost::asio::awaitable<void> record_ready(job_run& run, const media::probe_result& probe, const ladder& renditions,
                                            const std::string& renditions_json);
  // Progress: published (when it changed) at most 4 times a second, stored
  // at most once a second; a new stage or `force` skips both waits.
  boost::asio::awaitable<void> report_progress(job_run& run, std::string_view stage, double percent, bool force);

  void worker_exited();

  boost::asio::io_context& io_;
  db::gateway& db_;
  const storage::layout& files_;
  media::paths tools_;
  event_hub& hub_;
  const clock& clock_;
  processor_settings settings_;
  bool stopping_ = false;
  unsigned active_workers_ = 0;
  std::function<void()> on_stopped_;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> idle_timers_;
  std::uint64_t notifications_ = 0;  // notify() calls so far
  std::unique_ptr<db::listener> job_listener_;
  std::unordered_map<std::string, std::shared_ptr<job_run>> running_;  // by video id
  std::string last_claimed_org_;                                       // claims go round the organizations from here
};

}  // namespace reel::jobs
