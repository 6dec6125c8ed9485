// The processing side of reel: workers that claim `process_video` jobs
// from the durable queue in the database, hold them with a lease they
// heartbeat, and run the pipeline (probe → poster → MP4 + HLS) in ffmpeg
// child processes. Coroutines on the loop thread; the heavy work is in the
// children, the blocking file work on the pool.
#pragma once

#include "core/clock.hpp"
#include "core/events.hpp"
#include "db/database.hpp"
#include "db/jobs.hpp"
#include "media/child.hpp"
#include "media/ffmpeg.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel::jobs {

struct processor_settings {
  unsigned workers = 1;
  std::chrono::milliseconds lease{30'000};
  std::chrono::milliseconds poll{1'000};
  std::chrono::milliseconds retry_base{5'000};
  int max_attempts = 3;
  std::string owner;  // names this process in lease_owner, e.g. "host:pid"
  // What a source may be (refused after the probe, in words, no retries)
  // and what ffmpeg/ffprobe may use (RLIMIT_AS; RLIMIT_CPU from each run's timeout).
  media::limits limits;
  media::child_limits child_limits;
};

class processor {
 public:
  // `video_view` turns a video row into the API's JSON (for events).
  // `job_listener` (db::listen_for_jobs; nullptr on SQLite) hears the jobs
  // other processes enqueue: start() starts it when there are workers, and
  // each notification wakes the idle ones as notify() does.
  processor(boost::asio::io_context& io, db::gateway& db, const storage::layout& files, media::paths tools,
            event_hub& hub, const clock& c, std::function<boost::json::object(const model::video&)> video_view,
            processor_settings settings, std::unique_ptr<db::listener> job_listener = nullptr);
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

  std::size_t running_jobs() const noexcept { return running_.size(); }

 private:
  struct job_run;
  boost::asio::awaitable<void> run_worker(unsigned index);
  boost::asio::awaitable<void> run_job(std::shared_ptr<job_run> run);
  boost::asio::awaitable<void> run_heartbeat(std::shared_ptr<job_run> run);
  boost::asio::awaitable<void> process_video(job_run& run);
  void publish(const std::string& org, const std::string& name, boost::json::value payload);
  void worker_exited();

  boost::asio::io_context& io_;
  db::gateway& db_;
  const storage::layout& files_;
  media::paths tools_;
  event_hub& hub_;
  const clock& clock_;
  std::function<boost::json::object(const model::video&)> video_view_;
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
