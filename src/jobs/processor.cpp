#include "jobs/processor.hpp"

#include "core/async.hpp"
#include "core/fault.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "db/quotas.hpp"
#include "media/failure.hpp"
#include "media/mp4_duration.hpp"
#include "media/storyboard.hpp"
#include "model/events.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

namespace reel::jobs {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Bad input: retrying cannot help. The message is shown to the user.
struct permanent_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Something that may work next time (a crash, a decoder's hiccup).
struct transient_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The server's resource ran out (disk, descriptors, I/O): retried later, uncounted.
struct resource_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
enum class stop_reason { none, deleted, lease_lost, shutdown };
struct job_stopped : std::runtime_error {
  stop_reason why;
  explicit job_stopped(stop_reason r) : std::runtime_error("job stopped"), why(r) {}
};

// A failed ffprobe/ffmpeg run: the details go to the log, the user gets
// words (media::explain_failure), permanent, a resource's or worth a retry.
[[noreturn]] void fail_run(media::step step, const media::child_result& r, const std::string& job_id,
                           const std::string& video_id, const fs::path& video_dir) {
  static constexpr const char* names[] = {"probe", "poster", "transcode"};
  const std::string dir = video_dir.string();
  auto f = media::explain_failure(step, r, dir);
  std::string tail = r.stderr_tail.size() > 2000 ? r.stderr_tail.substr(r.stderr_tail.size() - 2000) : r.stderr_tail;
  log::warn("ffmpeg run failed", {{"job", job_id},
                                  {"video", video_id},
                                  {"step", names[static_cast<int>(step)]},
                                  {"exit_code", r.exit_code},
                                  {"signal", r.signal},
                                  {"timed_out", r.timed_out},
                                  {"start_error", r.start_error},
                                  {"stderr", tail},
                                  {"reason", f.message}});
  if (f.kind == media::failure_kind::permanent) throw permanent_failure(f.message);
  if (f.kind == media::failure_kind::resource) throw resource_failure(f.message);
  throw transient_failure(f.message);
}

// A storage operation (std::system_error, std::filesystem::filesystem_error)
// failed: a resource failure for ENOSPC, EDQUOT, EMFILE, ENFILE or EIO, in
// words; otherwise `otherwise`, transient.
[[noreturn]] void fail_storage(const std::system_error& e, const std::string& otherwise) {
  int code = e.code().value();
  bool errno_code = e.code().category() == std::generic_category() || e.code().category() == std::system_category();
  if (errno_code && media::is_resource_errno(code)) throw resource_failure(media::resource_failure_message(code));
  throw transient_failure(otherwise);
}

// Throws std::system_error when the file cannot be opened (out of
// descriptors is a resource failure, not an empty playlist).
std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::system_error(errno ? errno : EIO, std::generic_category(), "open " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr std::chrono::seconds k_probe_timeout{60};
constexpr std::chrono::seconds k_poster_timeout{120};
constexpr std::string_view k_transcode_stage = "hls";

// The probe of a source we accept: parsed, a real media container, within
// the limits. Throws permanent_failure (in words) otherwise.
media::probe_result accept_probe(const std::string& probe_json, const media::limits& limits,
                                 const std::string& video_id) {
  media::probe_result probe;
  try {
    probe = media::parse_probe(probe_json);
  } catch (const std::exception& e) {
    throw permanent_failure(e.what());
  }
  if (auto refused = media::refuse_format(probe.format_name)) {
    log::warn("upload refused", {{"video", video_id}, {"format", probe.format_name}});
    throw permanent_failure(*refused);
  }
  if (auto refused = media::check_limits(probe, limits)) {
    log::warn("upload over the limits", {{"video", video_id},
                                         {"width", probe.width},
                                         {"height", probe.height},
                                         {"fps", probe.fps},
                                         {"duration", probe.duration_sec}});
    throw permanent_failure(*refused);
  }
  return probe;
}

// Blocking (pool). Writes the master playlist into `work`/hls with the
// bandwidths measured from the renditions' segments; returns the
// renditions as the JSON stored with the video.
std::string write_master_playlist(const fs::path& work, const std::vector<media::rendition>& ladder, bool has_audio) {
  std::vector<std::int64_t> peak, average;
  json::array renditions;
  for (const auto& r : ladder) {
    fs::path rdir = work / "hls" / r.name;
    std::string playlist = read_text(rdir / "index.m3u8");
    std::vector<std::uint64_t> sizes;
    for (const auto& seg : media::playlist_segments(playlist)) sizes.push_back(fs::file_size(rdir / seg));
    auto stats = media::measure_playlist(playlist, sizes);
    peak.push_back(stats.peak_bps);
    average.push_back(stats.average_bps);
    renditions.push_back(
        json::object{{"name", r.name}, {"width", r.width}, {"height", r.height}, {"bandwidth", stats.peak_bps}});
  }
  storage::write_file_atomic(work / "hls" / "master.m3u8", media::master_playlist(ladder, peak, average, has_audio));
  return json::serialize(renditions);
}

// Blocking (pool). Writes the storyboard's WebVTT into `work`/storyboard
// for the sheets made there (sprite-001.jpg, ... in order), and removes the tiles.
// Throws std::runtime_error when it wrote none.
void write_storyboard_vtt(const fs::path& work, const media::probe_result& probe) {
  media::storyboard_plan plan = media::plan_storyboard(probe);
  fs::path dir = work / media::k_storyboard_dir;
  int sheets = 0;
  while (sheets < plan.sheets() && fs::exists(dir / media::sprite_name(sheets + 1))) ++sheets;
  if (sheets == 0) throw std::runtime_error("the transcode wrote no storyboard");
  fs::remove(dir / media::k_storyboard_tiles);  // the sheets hold them now
  storage::write_file_atomic(dir / media::k_storyboard_vtt, media::storyboard_vtt(plan, probe.duration_sec, sheets));
}

// Blocking (pool). Moves the outputs from `work` into the video's
// directory `dir`, replacing those of any earlier processing.
void move_outputs_into_place(const fs::path& work, const fs::path& dir) {
  storage::remove_tree(dir / "hls");
  storage::remove_tree(dir / "thumbs");
  storage::remove_tree(dir / media::k_storyboard_dir);
  storage::remove_tree(dir / "downloads");         // MP4s of the old renditions (domain/downloads.hpp)
  storage::remove_tree(dir / media::k_early_dir);  // the early playback's stream copy
  fs::rename(work / "hls", dir / "hls");
  fs::rename(work / media::k_storyboard_dir, dir / media::k_storyboard_dir);
  fs::rename(work / "video.mp4", dir / "video.mp4");
  fs::rename(work / "poster.jpg", dir / "poster.jpg");
  fault::crash_point("job:outputs-placed");  // tests: outputs in place, the row not yet ready
}

}  // namespace

struct processor::job_run {
  model::job job;
  std::string owner;
  std::string video_id, org_id;
  // The video's directory, its source, and this job's work directory inside
  // it (all empty for a job without a video).
  fs::path dir, work;
  std::string original;
  std::shared_ptr<media::child_process> child;
  stop_reason stopped = stop_reason::none;
  bool finished = false;
  asio::steady_timer heartbeat;
  // Progress reporting state.
  std::string stage;
  double percent = -1;
  std::chrono::steady_clock::time_point last_publish{}, last_store{};
  // The bytes of the outputs once stored in the video's directory.
  std::int64_t outputs_bytes = 0;
  // The poster chosen by hand, if any (domain/posters.hpp): a frame at this
  // time, or the image kept beside the outputs.
  std::optional<double> poster_time;
  bool poster_image = false;
  asio::steady_timer ended;  // cancelled when the run has stopped touching the video's files
  bool over = false;
  bool playable_early = false;  // video:playable published
  // Where the time goes: each stage's wall time in ms, logged with "video ready"
  // (begin: the row and the work directory; check: the output's probe).
  std::chrono::steady_clock::time_point lap_start = std::chrono::steady_clock::now();
  std::string timings;  // "begin:3,probe:81,..."
  void lap(std::string_view stage) {
    auto now = std::chrono::steady_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - lap_start).count();
    timings.append(timings.empty() ? "" : ",").append(stage).append(":").append(std::to_string(ms));
    lap_start = now;
  }
  explicit job_run(asio::io_context& io) : heartbeat(io), ended(io, asio::steady_timer::time_point::max()) {}

  void stop(stop_reason why) {
    if (stopped == stop_reason::none) stopped = why;
    if (child) child->terminate();
  }
  void check() const {
    if (stopped != stop_reason::none) throw job_stopped(stopped);
  }
};

// How a job's pipeline ended: stopped (and why), failed (and whether a
// retry can help), or neither (done).
struct processor::job_outcome {
  stop_reason stopped = stop_reason::none;
  std::optional<std::string> failure;  // the reason, in words for the user
  media::failure_kind kind = media::failure_kind::transient;
};

// Shared by the transcode step, the ffmpeg output it parses, and the
// reporter coroutine beside the child that reports what was parsed.
struct processor::transcode_progress {
  media::progress_parser parser;
  std::optional<double> pending;  // the latest percent, not reported yet
  bool done = false;              // the child has exited
  asio::steady_timer tick;
  // An event: its expiry moves to the past when the reporter has ended, so
  // that one wait on it completes whether it started before or after.
  asio::steady_timer reporter_ended;
  transcode_progress(asio::io_context& io, double duration_sec)
      : parser(duration_sec), tick(io), reporter_ended(io, asio::steady_timer::time_point::max()) {}
};

processor::processor(asio::io_context& io, db::gateway& db, const storage::layout& files, media::paths tools,
                     event_hub& hub, const clock& c, processor_settings settings,
                     std::unique_ptr<db::listener> job_listener)
    : io_(io),
      db_(db),
      files_(files),
      tools_(std::move(tools)),
      hub_(hub),
      clock_(c),
      settings_(std::move(settings)),
      job_listener_(std::move(job_listener)) {}

void processor::start() {
  for (unsigned i = 0; i < settings_.workers; ++i) {
    idle_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
    ++active_workers_;
    asio::co_spawn(io_, run_worker(i), [this, log = log_failure("worker")](std::exception_ptr e) {
      log(e);
      worker_exited();
    });
  }
  if (settings_.workers == 0) return;
  log::info("workers started", {{"count", settings_.workers}, {"owner", settings_.owner}});
  if (job_listener_) job_listener_->start([this] { notify(); });
}

void processor::worker_exited() {
  if (--active_workers_ == 0 && stopping_ && on_stopped_) {
    auto done = std::move(on_stopped_);
    on_stopped_ = nullptr;
    asio::post(io_, std::move(done));
  }
}

void processor::stop(std::function<void()> done) {
  stopping_ = true;
  if (job_listener_) job_listener_->stop();
  for (auto& t : idle_timers_) t->cancel();
  for (auto& [video, run] : running_) run->stop(stop_reason::shutdown);
  if (active_workers_ == 0) {
    asio::post(io_, std::move(done));
    return;
  }
  on_stopped_ = std::move(done);
}

void processor::notify() {
  ++notifications_;
  for (auto& t : idle_timers_) t->cancel();
}

asio::awaitable<void> processor::cancel_video(const std::string& video_id) {
  auto it = running_.find(video_id);
  if (it == running_.end()) co_return;
  auto run = it->second;
  run->stop(stop_reason::deleted);
  if (!run->over) co_await run->ended.async_wait(use_tuple);
}

asio::awaitable<void> processor::reclaim_own_jobs() {
  // Only a dead process's leases carry this prefix: this process holds the
  // identity's lock, and its own leases are not written yet.
  std::string prefix = settings_.identity->name() + "/";
  std::string now = to_iso8601(clock_.now());
  std::vector<std::string> reclaimed;
  try {
    reclaimed = co_await db_.write([&](db::transaction& s) { return db::reclaim_jobs_of(s, prefix, now); });
  } catch (const std::exception& e) {
    log::warn("reclaiming the jobs of this worker's previous run failed; their leases will expire",
              {{"identity", settings_.identity->name()}, {"error", e.what()}});
    co_return;
  }
  if (reclaimed.empty()) co_return;
  log::info("jobs of this worker's previous run reclaimed",
            {{"identity", settings_.identity->name()}, {"count", reclaimed.size()}});
  notify();
}

asio::awaitable<void> processor::run_worker(unsigned index) {
  auto& idle = *idle_timers_[index];
  if (index == 0 && settings_.identity) co_await reclaim_own_jobs();
  while (!stopping_) {
    std::string now = to_iso8601(clock_.now());
    std::string lease_until = to_iso8601(clock_.now() + settings_.lease);
    std::optional<model::job> claimed;
    const std::uint64_t notified = notifications_;
    bool failed = false;
    try {
      const std::string& after = last_claimed_org_;
      claimed = co_await db_.write(
          [&](db::transaction& s) { return db::claim_job(s, settings_.owner, now, lease_until, after); });
    } catch (const std::exception& e) {
      log::warn("claiming a job failed", {{"error", e.what()}});
      failed = true;
    }
    if (claimed) last_claimed_org_ = claimed->organization_id;
    if (!claimed) {
      // stop() came while the claim looked: its cancel found no timer armed.
      if (stopping_) break;
      // A job announced while the claim looked may have been committed after it looked.
      if (!failed && notifications_ != notified) continue;
      idle.expires_after(settings_.poll);
      co_await idle.async_wait(use_tuple);
      continue;
    }
    auto run = std::make_shared<job_run>(io_);
    run->job = std::move(*claimed);
    run->owner = settings_.owner;
    run->video_id = run->job.video_id.value_or("");
    run->org_id = run->job.organization_id;
    if (!run->video_id.empty()) {
      run->dir = files_.video_dir(run->org_id, run->video_id);
      run->work = run->dir / ("work-" + run->job.id);
      run->original = (run->dir / "original").string();
    }
    if (stopping_) run->stop(stop_reason::shutdown);  // claimed while stopping: given back at once
    co_await run_job(run);
  }
}

asio::awaitable<void> processor::run_heartbeat(std::shared_ptr<job_run> run) {
  while (!run->finished) {
    run->heartbeat.expires_after(settings_.lease / 3);
    co_await run->heartbeat.async_wait(use_tuple);
    if (run->finished) break;
    std::string until = to_iso8601(clock_.now() + settings_.lease);
    bool held = false;
    try {
      held = co_await db_.write([&](db::transaction& s) { return db::renew_lease(s, run->job.id, run->owner, until); });
    } catch (const std::exception& e) {
      log::warn("lease renewal failed", {{"job", run->job.id}, {"error", e.what()}});
      continue;
    }
    if (!held && !run->finished) {
      // Deleted with its video, or taken over by another worker.
      bool exists = co_await db_.read([&](db::transaction& s) { return db::find_job(s, run->job.id).has_value(); });
      run->stop(exists ? stop_reason::lease_lost : stop_reason::deleted);
    }
  }
}

asio::awaitable<void> processor::run_job(std::shared_ptr<job_run> run) {
  log::info("job started", {{"job", run->job.id},
                            {"video", run->video_id},
                            {"attempt", run->job.attempts},
                            {"takeovers", run->job.takeovers}});
  if (!run->video_id.empty()) running_[run->video_id] = run;
  asio::co_spawn(io_, run_heartbeat(run), log_failure("heartbeat"));

  job_outcome outcome = co_await process_job(*run);
  if (outcome.stopped == stop_reason::none && run->stopped != stop_reason::none) outcome.stopped = run->stopped;
  run->finished = true;
  run->heartbeat.cancel();

  // The work directory, and the early playback's copy when the video did
  // not become ready (unless another worker now has the job, and the copy).
  bool keep_early = outcome.stopped == stop_reason::lease_lost;
  auto cleanup = [&work = run->work, &dir = run->dir, keep_early] {
    storage::remove_tree(work);
    if (!keep_early) storage::remove_tree(dir / media::k_early_dir);
  };
  if (!run->video_id.empty()) co_await db_.pool().offload(cleanup);
  co_await record_outcome(*run, outcome);

  // Only now does the run no longer touch the video's files.
  if (auto it = running_.find(run->video_id); it != running_.end() && it->second == run) running_.erase(it);
  run->over = true;
  run->ended.cancel();
}

asio::awaitable<processor::job_outcome> processor::process_job(job_run& run) {
  const std::string& job_id = run.job.id;
  job_outcome outcome;
  try {
    if (run.job.kind != "process_video") {
      log::error("unknown job kind", {{"job", job_id}, {"kind", run.job.kind}});
      throw permanent_failure("This job cannot be processed.");
    }
    if (run.job.takeovers > settings_.max_takeovers) {
      log::error("job given up: its workers kept dying", {{"job", job_id}, {"takeovers", run.job.takeovers}});
      throw permanent_failure("Processing this video was cut short by a server failure " +
                              std::to_string(run.job.takeovers) + " times, so it was given up.");
    }
    co_await process_video(run);
  } catch (const job_stopped& s) {
    outcome.stopped = s.why;
  } catch (const permanent_failure& e) {
    outcome.failure = e.what();
    outcome.kind = media::failure_kind::permanent;
  } catch (const resource_failure& e) {
    outcome.failure = e.what();
    outcome.kind = media::failure_kind::resource;
  } catch (const transient_failure& e) {
    outcome.failure = e.what();
  } catch (const db::db_error& e) {
    outcome.failure = "The database failed during processing.";
    log::error("job database error", {{"job", job_id}, {"error", e.what()}});
  } catch (const std::system_error& e) {
    // A storage operation of the pipeline (the work directory, the outputs).
    log::error("job storage error", {{"job", job_id}, {"error", e.what()}});
    bool resource = media::is_resource_errno(e.code().value());
    outcome.failure = resource ? media::resource_failure_message(e.code().value()) : "Processing failed unexpectedly.";
    if (resource) outcome.kind = media::failure_kind::resource;
  } catch (const std::exception& e) {
    outcome.failure = "Processing failed unexpectedly.";
    log::error("job error", {{"job", job_id}, {"error", e.what()}});
  }
  co_return outcome;
}

asio::awaitable<void> processor::record_outcome(job_run& run, const job_outcome& outcome) {
  const std::string& job_id = run.job.id;
  const std::string& owner = run.owner;
  const std::string& vid = run.video_id;
  std::string now = to_iso8601(clock_.now());
  try {
    if (outcome.stopped == stop_reason::deleted) {
      co_await db_.write([&](db::transaction& s) {
        db::finish_job(s, job_id, owner, model::job_state::cancelled, std::nullopt, now);
      });
      auto remove_video = [&dir = run.dir] { storage::remove_tree(dir); };
      if (!vid.empty()) co_await db_.pool().offload(remove_video);
      log::info("job cancelled", {{"job", job_id}, {"video", vid}});
    } else if (outcome.stopped == stop_reason::lease_lost) {
      log::warn("job lease lost; another worker has it", {{"job", job_id}});
    } else if (outcome.stopped == stop_reason::shutdown) {
      co_await db_.write([&](db::transaction& s) {
        db::requeue_job(s, job_id, owner, "interrupted by a shutdown", now, now, db::requeue_reason::shutdown);
        db::set_video_progress(s, vid, std::nullopt, std::nullopt, now);
        db::set_video_status(s, vid, model::video_status::queued, std::nullopt, now);
      });
      log::info("job put back for after the restart", {{"job", job_id}});
    } else if (outcome.failure) {
      co_await record_failure(run, *outcome.failure, outcome.kind, now);
    }
  } catch (const std::exception& e) {
    log::error("recording the job's outcome failed", {{"job", job_id}, {"error", e.what()}});
  }
}

asio::awaitable<void> processor::record_failure(job_run& run, const std::string& reason, media::failure_kind kind,
                                                const std::string& now) {
  const std::string& job_id = run.job.id;
  const std::string& owner = run.owner;
  const std::string& vid = run.video_id;
  // Transient: counted, retried with backoff while attempts are left.
  // Resource: not counted, retried on the longer schedule while resource
  // retries are left. Permanent: failed at once.
  bool resource = kind == media::failure_kind::resource;
  bool retry = resource ? run.job.resource_retries < settings_.max_resource_retries
                        : kind == media::failure_kind::transient && run.job.attempts < run.job.max_attempts;
  auto backoff =
      settings_.retry_base * (1 << std::min<std::int64_t>(std::max<std::int64_t>(run.job.attempts - 1, 0), 10));
  if (resource)
    backoff = std::min(settings_.resource_retry_max,
                       settings_.resource_retry_base * (1 << std::min<std::int64_t>(run.job.resource_retries, 20)));
  std::string run_after = to_iso8601(clock_.now() + backoff);
  auto why = resource ? db::requeue_reason::resource : db::requeue_reason::retry;
  co_await db_.write([&](db::transaction& s) {
    if (retry)
      db::requeue_job(s, job_id, owner, reason, run_after, now, why);
    else
      db::finish_job(s, job_id, owner, model::job_state::failed, reason, now);
    db::set_video_progress(s, vid, std::nullopt, std::nullopt, now);
    db::set_video_status(s, vid, retry ? model::video_status::queued : model::video_status::failed, reason, now);
  });
  if (on_video_changed) on_video_changed(vid);
  log::warn(retry ? "job failed; will retry" : "job failed", {{"job", job_id},
                                                              {"video", vid},
                                                              {"attempt", run.job.attempts},
                                                              {"resource", resource},
                                                              {"resource_retries", run.job.resource_retries},
                                                              {"run_after", retry ? run_after : std::string()},
                                                              {"reason", reason}});
  if (!retry) hub_.publish(model::video_failed(run.org_id, vid, reason));
}

asio::awaitable<void> processor::process_video(job_run& run) {
  co_await begin_processing(run);
  run.lap("begin");
  media::probe_result probe = co_await probe_source(run);
  run.lap("probe");
  co_await make_early_rendition(run, probe);
  run.lap("early");
  co_await make_poster(run, probe);
  run.lap("poster");
  // One decode makes the faststart MP4, every HLS rendition and the storyboard.
  ladder renditions = media::plan_ladder(probe);
  co_await transcode(run, probe, renditions);
  run.lap("transcode");
  co_await check_output_durations(run, probe, renditions);
  run.lap("check");
  co_await make_storyboard_sheets(run, probe);
  run.lap("storyboard");
  std::string renditions_json = co_await install_outputs(run, probe, renditions);
  run.lap("install");
  co_await record_ready(run, probe, renditions, renditions_json);
}

asio::awaitable<void> processor::begin_processing(job_run& run) {
  const std::string& vid = run.video_id;
  const std::string& org = run.org_id;
  auto video = co_await db_.read([&](db::transaction& s) { return db::find_video(s, org, vid); });
  if (!video) throw job_stopped(stop_reason::deleted);
  run.poster_time = video->poster_time;
  run.poster_image = video->poster_image;
  // Outputs are not made into the storage reserve (kept for the database):
  // when about the source's size again does not fit, the run is a resource
  // failure (retried later, uncounted).
  auto room = [&space = files_.space(), need = std::max<std::int64_t>(0, video->size_bytes)] {
    try {
      space.check(static_cast<std::uint64_t>(need));
      return true;
    } catch (const error&) {
      return false;
    }
  };
  if (!co_await db_.pool().offload(room)) throw resource_failure(std::string(k_out_of_storage));
  std::string now = to_iso8601(clock_.now());
  co_await db_.write(
      [&](db::transaction& s) { db::set_video_status(s, vid, model::video_status::processing, std::nullopt, now); });
  co_await report_progress(run, "probe", 0, true);
  // The work directory goes inside the video's directory, which is never
  // recreated here: if it is gone, the video was deleted meanwhile (and a
  // recreated directory would outlive the deletion).
  auto prepare = [&work = run.work, &dir = run.dir] {
    if (!fs::is_directory(dir)) return false;
    storage::remove_tree(work);
    fs::create_directory(work);
    fs::create_directory(work / "hls");
    fs::create_directory(work / media::k_storyboard_dir);
    return true;
  };
  bool prepared = false;
  try {
    prepared = co_await db_.pool().offload(prepare);
  } catch (const std::system_error& e) {
    log::warn("making the work directory failed", {{"job", run.job.id}, {"error", e.what()}});
    fail_storage(e, "Preparing the processing failed.");
  }
  if (!prepared) throw job_stopped(stop_reason::deleted);
  run.check();
}

asio::awaitable<media::probe_result> processor::probe_source(job_run& run) {
  // Only real media containers, only this file; then the limits.
  std::string probe_json;
  std::function<void(std::string_view)> collect = [&probe_json](std::string_view line) {
    if (probe_json.size() < (4 << 20)) probe_json.append(line).append("\n");
  };
  auto argv = media::probe_command(tools_, run.original);
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto result = co_await run.child->run(argv, collect, k_probe_timeout);
  run.check();
  if (!result.ok()) fail_run(media::step::probe, result, run.job.id, run.video_id, run.dir);
  media::probe_result probe = accept_probe(probe_json, settings_.limits, run.video_id);

  db::probe_fields f{probe.duration_sec, probe.width, probe.height, probe.video_codec, probe.audio_codec};
  std::string now = to_iso8601(clock_.now());
  const std::string& vid = run.video_id;
  co_await db_.write([&](db::transaction& s) { db::set_video_probe(s, vid, f, now); });
  co_await report_progress(run, "probe", 100, true);
  co_return probe;
}

// Shared by make_early_rendition and the watcher beside its child.
struct processor::early_watch {
  bool done = false;  // the child has exited
  asio::steady_timer tick;
  asio::steady_timer watcher_ended;  // an event, as transcode_progress::reporter_ended
  explicit early_watch(asio::io_context& io) : tick(io), watcher_ended(io, asio::steady_timer::time_point::max()) {}
};

asio::awaitable<void> processor::make_early_rendition(job_run& run, const media::probe_result& probe) {
  if (!media::can_remux(probe)) co_return;
  fs::path early = run.dir / media::k_early_dir;
  auto prepare = [&early] {
    storage::remove_tree(early);
    fs::create_directory(early);
  };
  co_await db_.pool().offload(prepare);
  auto argv = media::early_command(tools_, run.original, probe, early.string(), settings_.limits);
  early_watch watch(io_);
  auto watcher_ended = [&watch](std::exception_ptr e) {
    log_failure("early playback watcher")(e);
    watch.watcher_ended.expires_at(asio::steady_timer::time_point::min());
  };
  asio::co_spawn(io_, watch_early_rendition(run, watch), watcher_ended);
  const std::function<void(std::string_view)> no_output;
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  media::child_result result;
  std::exception_ptr escaped;
  try {
    result = co_await run.child->run(argv, no_output, media::transcode_timeout(probe, settings_.limits));
  } catch (...) {
    escaped = std::current_exception();
  }
  watch.done = true;
  watch.tick.cancel();
  co_await watch.watcher_ended.async_wait(use_tuple);
  if (escaped) std::rethrow_exception(escaped);
  run.check();
  if (result.ok()) {
    if (!run.playable_early) co_await publish_playable(run);  // done before the watcher's first look
    co_return;
  }
  log::warn(
      "early playback copy failed; the video plays once ready",
      {{"job", run.job.id}, {"video", run.video_id}, {"exit_code", result.exit_code}, {"stderr", result.stderr_tail}});
  std::string now = to_iso8601(clock_.now());
  const std::string& vid = run.video_id;
  co_await db_.write([&](db::transaction& s) { db::clear_video_playable(s, vid, now); });
  run.playable_early = false;
  if (on_video_changed) on_video_changed(vid);
  auto remove = [&early] { storage::remove_tree(early); };
  co_await db_.pool().offload(remove);
}

asio::awaitable<void> processor::watch_early_rendition(job_run& run, early_watch& watch) {
  fs::path playlist = run.dir / media::k_early_dir / "index.m3u8";
  auto has_segment = [&playlist] {
    auto text = storage::read_small_file(playlist, 1 << 20);
    return text && !media::playlist_segments(*text).empty();
  };
  while (!watch.done && !run.playable_early) {
    watch.tick.expires_after(std::chrono::milliseconds(100));
    co_await watch.tick.async_wait(use_tuple);
    if (watch.done || run.stopped != stop_reason::none) break;
    if (co_await db_.pool().offload(has_segment)) co_await publish_playable(run);
  }
}

asio::awaitable<void> processor::publish_playable(job_run& run) {
  run.playable_early = true;
  const std::string& vid = run.video_id;
  const std::string& org = run.org_id;
  std::string now = to_iso8601(clock_.now());
  auto video = co_await db_.write([&](db::transaction& s) -> std::optional<model::video> {
    if (!db::set_video_playable(s, vid, now)) return std::nullopt;
    return db::find_video(s, org, vid);
  });
  if (!video) co_return;
  if (on_video_changed) on_video_changed(vid);
  log::info("video playable early", {{"job", run.job.id}, {"video", vid}});
  hub_.publish(model::video_playable(*video));
}

asio::awaitable<void> processor::make_poster(job_run& run, const media::probe_result& probe) {
  co_await report_progress(run, "thumbnail", 0, true);
  if (run.poster_image) {
    // The image an editor chose stays the poster (a copy: the image is kept).
    auto copy = [&run] {
      std::error_code ec;
      fs::copy_file(run.dir / "poster-image.jpg", run.work / "poster.jpg", ec);
      return !ec;
    };
    if (co_await db_.pool().offload(copy)) {
      co_await report_progress(run, "thumbnail", 100, true);
      co_return;
    }
  }
  double at = run.poster_time ? media::poster_seek(*run.poster_time, probe.duration_sec) : media::poster_time(probe);
  auto argv = media::frame_command(tools_, run.original, probe.format_name, at, std::nullopt,
                                   (run.work / "poster.jpg").string());
  const std::function<void(std::string_view)> no_output;
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto result = co_await run.child->run(argv, no_output, k_poster_timeout);
  run.check();
  if (!result.ok()) fail_run(media::step::poster, result, run.job.id, run.video_id, run.dir);
  co_await report_progress(run, "thumbnail", 100, true);
}

asio::awaitable<void> processor::transcode(job_run& run, const media::probe_result& probe, const ladder& renditions) {
  auto argv = media::transcode_command(tools_, run.original, probe, renditions, run.work.string(), settings_.limits);
  co_await report_progress(run, k_transcode_stage, 0, true);
  transcode_progress progress(io_, probe.duration_sec);
  std::function<void(std::string_view)> on_line = [&progress](std::string_view line) {
    if (progress.parser.feed(line)) progress.pending = progress.parser.percent();
  };
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto timeout = media::transcode_timeout(probe, settings_.limits);

  // Report progress while the child runs: a small loop beside it, which
  // uses this frame; so the frame is left only once the loop has ended.
  auto reporter_ended = [&progress](std::exception_ptr e) {
    log_failure("progress reporter")(e);
    progress.reporter_ended.expires_at(asio::steady_timer::time_point::min());
  };
  asio::co_spawn(io_, run_progress_reporter(run, progress), reporter_ended);
  media::child_result result;
  std::exception_ptr escaped;
  try {
    result = co_await run.child->run(argv, on_line, timeout);
  } catch (...) {
    escaped = std::current_exception();
  }
  progress.done = true;
  progress.tick.cancel();
  co_await progress.reporter_ended.async_wait(use_tuple);
  if (escaped) std::rethrow_exception(escaped);
  run.check();
  if (!result.ok()) fail_run(media::step::transcode, result, run.job.id, run.video_id, run.dir);
}

asio::awaitable<void> processor::run_progress_reporter(job_run& run, transcode_progress& progress) {
  while (!progress.done) {
    progress.tick.expires_after(std::chrono::milliseconds(250));
    co_await progress.tick.async_wait(use_tuple);
    if (progress.pending && !progress.done) {
      double percent = std::min(*progress.pending, 99.0);
      progress.pending.reset();
      co_await report_progress(run, k_transcode_stage, percent, false);
    }
  }
}

asio::awaitable<void> processor::make_storyboard_sheets(job_run& run, const media::probe_result& probe) {
  const std::string dir = (run.work / media::k_storyboard_dir).string();
  auto argv = media::sheets_command(tools_, media::plan_storyboard(probe), dir);
  const std::function<void(std::string_view)> no_output;
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto result = co_await run.child->run(argv, no_output, k_poster_timeout);
  run.check();
  if (!result.ok()) fail_run(media::step::transcode, result, run.job.id, run.video_id, run.dir);
}

asio::awaitable<void> processor::check_output_durations(job_run& run, const media::probe_result& probe,
                                                        const ladder& renditions) {
  // The MP4's duration is the one its movie header declares (what ffprobe
  // would report, read without another process start); an MP4 without one
  // is as short as can be. Each HLS rung's is the sum of its segments.
  auto durations = [&work = run.work, &renditions] {
    double mp4 = media::mp4_declared_duration(work / "video.mp4").value_or(0);
    double shortest = std::numeric_limits<double>::max();
    for (const auto& r : renditions)
      shortest = std::min(shortest, media::playlist_duration(read_text(work / "hls" / r.name / "index.m3u8")));
    return std::pair{mp4, shortest};
  };
  double mp4_sec = 0;
  double hls_sec = 0;
  try {
    auto measured = co_await db_.pool().offload(durations);
    mp4_sec = measured.first;
    hls_sec = measured.second;
  } catch (const std::system_error& e) {
    log::warn("reading the outputs failed", {{"job", run.job.id}, {"video", run.video_id}, {"error", e.what()}});
    fail_storage(e, "Checking the processed video failed.");
  }
  run.check();
  auto short_by = media::check_output_duration(probe.duration_sec, std::min(mp4_sec, hls_sec));
  if (!short_by) co_return;
  log::warn("output shorter than the source claims", {{"job", run.job.id},
                                                      {"video", run.video_id},
                                                      {"probed", probe.duration_sec},
                                                      {"mp4", mp4_sec},
                                                      {"hls", hls_sec}});
  throw permanent_failure(*short_by);
}

asio::awaitable<std::string> processor::install_outputs(job_run& run, const media::probe_result& probe,
                                                        const ladder& renditions) {
  bool has_audio = probe.audio_codec.has_value();
  auto finish_files = [&work = run.work, &dir = run.dir, &renditions, &probe, has_audio, &bytes = run.outputs_bytes] {
    std::string renditions_json = write_master_playlist(work, renditions, has_audio);
    write_storyboard_vtt(work, probe);
    move_outputs_into_place(work, dir);
    bytes = static_cast<std::int64_t>(storage::outputs_size(dir));  // counted against the quota when recorded
    return renditions_json;
  };
  run.check();
  if (before_storing_outputs) before_storing_outputs();
  std::string renditions_json;
  try {
    renditions_json = co_await db_.pool().offload(finish_files);
  } catch (const std::system_error& e) {
    log::warn("storing the outputs failed", {{"job", run.job.id}, {"video", run.video_id}, {"error", e.what()}});
    fail_storage(e, "Storing the processed video failed.");
  } catch (const std::exception& e) {
    log::warn("storing the outputs failed", {{"job", run.job.id}, {"video", run.video_id}, {"error", e.what()}});
    throw transient_failure("Storing the processed video failed.");
  }
  co_return renditions_json;
}

asio::awaitable<void> processor::record_ready(job_run& run, const media::probe_result& probe, const ladder& renditions,
                                              const std::string& renditions_json) {
  const std::string& job_id = run.job.id;
  const std::string& owner = run.owner;
  const std::string& vid = run.video_id;
  const std::string& org = run.org_id;
  std::string now = to_iso8601(clock_.now());
  auto ready = co_await db_.write([&](db::transaction& s) -> std::optional<model::video> {
    if (!db::finish_job(s, job_id, owner, model::job_state::succeeded, std::nullopt, now)) return std::nullopt;
    auto before = db::find_video(s, org, vid);
    if (!before) return std::nullopt;
    db::set_video_ready(s, vid, renditions_json, now);
    // The new outputs replace the previous ones in the count: never refused
    // (the upload was accepted), they may take the usage past the quota.
    db::set_video_outputs_bytes(s, vid, run.outputs_bytes);
    db::adjust_storage(s, org, run.outputs_bytes - before->outputs_bytes.value_or(0));
    return db::find_video(s, org, vid);
  });
  if (!ready) throw job_stopped(run.stopped == stop_reason::none ? stop_reason::lease_lost : run.stopped);
  if (on_video_changed) on_video_changed(vid);
  run.lap("record");
  log::info(
      "video ready",
      {{"video", vid}, {"renditions", renditions.size()}, {"remux", media::can_remux(probe)}, {"ms", run.timings}});
  hub_.publish(model::video_ready(*ready));
}

// `stage` is a string_view: a std::string temporary in a co_await
// expression trips GCC 12.
asio::awaitable<void> processor::report_progress(job_run& run, std::string_view stage, double percent, bool force) {
  const std::string& vid = run.video_id;
  auto t = std::chrono::steady_clock::now();
  bool changed_stage = stage != run.stage;
  if (changed_stage || force || t - run.last_publish >= std::chrono::milliseconds(250)) {
    if (percent != run.percent || changed_stage) {
      run.last_publish = t;
      hub_.publish(model::video_progress(run.org_id, vid, stage, percent));
    }
  }
  run.stage = stage;
  run.percent = percent;
  if (changed_stage || force || t - run.last_store >= std::chrono::seconds(1)) {
    run.last_store = t;
    std::string now = to_iso8601(clock_.now());
    std::string stage_text(stage);
    co_await db_.write([&](db::transaction& s) { db::set_video_progress(s, vid, stage_text, percent, now); });
    if (on_video_changed) on_video_changed(vid);
  }
}

}  // namespace reel::jobs
