#include "jobs/processor.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "media/failure.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace reel::jobs {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// Bad input: retrying cannot help. The message is shown to the user.
struct permanent_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Something that may work next time (a crash, a timeout, a full disk).
struct transient_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
enum class stop_reason { none, deleted, lease_lost, shutdown };
struct job_stopped : std::runtime_error {
  stop_reason why;
  explicit job_stopped(stop_reason r) : std::runtime_error("job stopped"), why(r) {}
};

// A failed ffprobe/ffmpeg run: the details go to the log, the user gets
// words (media::explain_failure), permanent or worth a retry.
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
  if (f.permanent) throw permanent_failure(f.message);
  throw transient_failure(f.message);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

struct processor::job_run {
  model::job job;
  std::string owner;
  std::string video_id, org_id;
  std::shared_ptr<media::child_process> child;
  stop_reason stopped = stop_reason::none;
  bool finished = false;
  asio::steady_timer heartbeat;
  // Progress reporting state.
  std::string stage;
  double percent = -1;
  std::chrono::steady_clock::time_point last_publish{}, last_store{};
  asio::steady_timer ended;  // cancelled when the run has stopped touching the video's files
  bool over = false;
  explicit job_run(asio::io_context& io) : heartbeat(io), ended(io, asio::steady_timer::time_point::max()) {}

  void stop(stop_reason why) {
    if (stopped == stop_reason::none) stopped = why;
    if (child) child->terminate();
  }
  void check() const {
    if (stopped != stop_reason::none) throw job_stopped(stopped);
  }
};

processor::processor(asio::io_context& io, db::gateway& db, const storage::layout& files, media::paths tools,
                     event_hub& hub, const clock& c, std::function<json::object(const model::video&)> video_view,
                     processor_settings settings, std::unique_ptr<db::listener> job_listener)
    : io_(io),
      db_(db),
      files_(files),
      tools_(std::move(tools)),
      hub_(hub),
      clock_(c),
      video_view_(std::move(video_view)),
      settings_(std::move(settings)),
      job_listener_(std::move(job_listener)) {}

void processor::start() {
  for (unsigned i = 0; i < settings_.workers; ++i) {
    idle_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
    ++active_workers_;
    asio::co_spawn(io_, run_worker(i), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("worker failed", {{"error", ex.what()}});
        }
      }
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

void processor::publish(const std::string& org, const std::string& name, json::value payload) {
  hub_.publish(event{org, name, std::move(payload)});
}

asio::awaitable<void> processor::run_worker(unsigned index) {
  auto& idle = *idle_timers_[index];
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
  const std::string job_id = run->job.id;
  log::info("job started", {{"job", job_id}, {"video", run->video_id}, {"attempt", run->job.attempts}});
  if (!run->video_id.empty()) running_[run->video_id] = run;
  asio::co_spawn(io_, run_heartbeat(run), [job_id](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("heartbeat failed", {{"job", job_id}, {"error", ex.what()}});
    }
  });

  std::optional<std::string> failure;
  bool permanent = false;
  stop_reason stopped = stop_reason::none;
  try {
    if (run->job.kind != "process_video") {
      log::error("unknown job kind", {{"job", job_id}, {"kind", run->job.kind}});
      throw permanent_failure("This job cannot be processed.");
    }
    co_await process_video(*run);
  } catch (const job_stopped& s) {
    stopped = s.why;
  } catch (const permanent_failure& e) {
    failure = e.what();
    permanent = true;
  } catch (const transient_failure& e) {
    failure = e.what();
  } catch (const db::db_error& e) {
    failure = "The database failed during processing.";
    log::error("job database error", {{"job", job_id}, {"error", e.what()}});
  } catch (const std::exception& e) {
    failure = "Processing failed unexpectedly.";
    log::error("job error", {{"job", job_id}, {"error", e.what()}});
  }
  if (stopped == stop_reason::none && run->stopped != stop_reason::none) stopped = run->stopped;
  run->finished = true;
  run->heartbeat.cancel();

  auto video_dir = run->video_id.empty() ? fs::path() : files_.video_dir(run->org_id, run->video_id);
  auto work_dir = video_dir / ("work-" + job_id);
  auto cleanup = [&work_dir] { storage::remove_tree(work_dir); };
  if (!run->video_id.empty()) co_await db_.pool().offload(cleanup);

  std::string now = to_iso8601(clock_.now());
  const std::string& owner = run->owner;
  const std::string& vid = run->video_id;
  try {
    if (stopped == stop_reason::deleted) {
      co_await db_.write([&](db::transaction& s) {
        db::finish_job(s, job_id, owner, model::job_state::cancelled, std::nullopt, now);
      });
      auto remove_video = [&video_dir] { storage::remove_tree(video_dir); };
      if (!vid.empty()) co_await db_.pool().offload(remove_video);
      log::info("job cancelled", {{"job", job_id}, {"video", vid}});
    } else if (stopped == stop_reason::lease_lost) {
      log::warn("job lease lost; another worker has it", {{"job", job_id}});
    } else if (stopped == stop_reason::shutdown) {
      co_await db_.write([&](db::transaction& s) {
        db::requeue_job(s, job_id, owner, "interrupted by a shutdown", now, now);
        db::set_video_progress(s, vid, std::nullopt, std::nullopt, now);
        db::set_video_status(s, vid, model::video_status::queued, std::nullopt, now);
      });
      log::info("job put back for after the restart", {{"job", job_id}});
    } else if (failure) {
      bool retry = !permanent && run->job.attempts < run->job.max_attempts;
      auto backoff = settings_.retry_base * (1 << std::min<std::int64_t>(run->job.attempts - 1, 10));
      std::string run_after = to_iso8601(clock_.now() + backoff);
      const std::string& reason = *failure;
      co_await db_.write([&](db::transaction& s) {
        if (retry)
          db::requeue_job(s, job_id, owner, reason, run_after, now);
        else
          db::finish_job(s, job_id, owner, model::job_state::failed, reason, now);
        db::set_video_progress(s, vid, std::nullopt, std::nullopt, now);
        db::set_video_status(s, vid, retry ? model::video_status::queued : model::video_status::failed, reason, now);
      });
      if (on_video_changed) on_video_changed(vid);
      log::warn(retry ? "job failed; will retry" : "job failed",
                {{"job", job_id}, {"video", vid}, {"attempt", run->job.attempts}, {"reason", reason}});
      if (!retry) publish(run->org_id, "video:failed", json::object{{"id", vid}, {"error", reason}});
    }
  } catch (const std::exception& e) {
    log::error("recording the job's outcome failed", {{"job", job_id}, {"error", e.what()}});
  }
  // Only now does the run no longer touch the video's files.
  if (auto it = running_.find(run->video_id); it != running_.end() && it->second == run) running_.erase(it);
  run->over = true;
  run->ended.cancel();
}

asio::awaitable<void> processor::process_video(job_run& run) {
  const std::string vid = run.video_id;
  const std::string org = run.org_id;
  auto now_iso = [this] { return to_iso8601(clock_.now()); };

  auto video = co_await db_.read([&](db::transaction& s) { return db::find_video(s, org, vid); });
  if (!video) throw job_stopped(stop_reason::deleted);
  const fs::path dir = files_.video_dir(org, vid);
  const fs::path work = dir / ("work-" + run.job.id);
  const std::string original = (dir / "original").string();

  // Progress: stored at most once a second, published at most 4 times a second.
  // (stage is a string_view: a std::string temporary in a co_await expression trips GCC 12.)
  auto report = [&](std::string_view stage, double percent, bool force) -> asio::awaitable<void> {
    auto t = std::chrono::steady_clock::now();
    bool changed_stage = stage != run.stage;
    if (changed_stage || force || t - run.last_publish >= std::chrono::milliseconds(250)) {
      if (percent != run.percent || changed_stage) {
        run.last_publish = t;
        publish(org, "video:progress",
                json::object{{"id", vid}, {"stage", std::string(stage)}, {"percent", std::round(percent)}});
      }
    }
    run.stage = stage;
    run.percent = percent;
    if (changed_stage || force || t - run.last_store >= std::chrono::seconds(1)) {
      run.last_store = t;
      std::string now = now_iso();
      std::string stage_text(stage);
      co_await db_.write([&](db::transaction& s) { db::set_video_progress(s, vid, stage_text, percent, now); });
      if (on_video_changed) on_video_changed(vid);
    }
  };

  {
    std::string now = now_iso();
    co_await db_.write(
        [&](db::transaction& s) { db::set_video_status(s, vid, model::video_status::processing, std::nullopt, now); });
  }
  co_await report("probe", 0, true);
  // The work directory goes inside the video's directory, which is never
  // recreated here: if it is gone, the video was deleted meanwhile (and a
  // recreated directory would outlive the deletion).
  auto prepare = [&work, &dir] {
    if (!fs::is_directory(dir)) return false;
    storage::remove_tree(work);
    fs::create_directory(work);
    fs::create_directory(work / "hls");
    return true;
  };
  if (!co_await db_.pool().offload(prepare)) throw job_stopped(stop_reason::deleted);
  run.check();

  // 1. Probe: only real media containers, only this file; then the limits.
  std::string probe_json;
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto probe_argv = media::probe_command(tools_, original);
  auto collect = [&probe_json](std::string_view line) {
    if (probe_json.size() < (4 << 20)) probe_json.append(line).append("\n");
  };
  auto probe_run = co_await run.child->run(probe_argv, collect, std::chrono::seconds(60));
  run.check();
  if (!probe_run.ok()) fail_run(media::step::probe, probe_run, run.job.id, vid, dir);
  media::probe_result probe;
  try {
    probe = media::parse_probe(probe_json);
  } catch (const std::exception& e) {
    throw permanent_failure(e.what());
  }
  if (auto refused = media::refuse_format(probe.format_name)) {
    log::warn("upload refused", {{"video", vid}, {"format", probe.format_name}});
    throw permanent_failure(*refused);
  }
  if (auto refused = media::check_limits(probe, settings_.limits)) {
    log::warn("upload over the limits", {{"video", vid},
                                         {"width", probe.width},
                                         {"height", probe.height},
                                         {"fps", probe.fps},
                                         {"duration", probe.duration_sec}});
    throw permanent_failure(*refused);
  }
  {
    db::probe_fields f{probe.duration_sec, probe.width, probe.height, probe.video_codec, probe.audio_codec};
    std::string now = now_iso();
    co_await db_.write([&](db::transaction& s) { db::set_video_probe(s, vid, f, now); });
  }
  co_await report("probe", 100, true);

  // 2. Poster.
  co_await report("thumbnail", 0, true);
  auto poster_argv = media::frame_command(tools_, original, probe.format_name, media::poster_time(probe), std::nullopt,
                                          (work / "poster.jpg").string());
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto poster_run = co_await run.child->run(poster_argv, nullptr, std::chrono::seconds(120));
  run.check();
  if (!poster_run.ok()) fail_run(media::step::poster, poster_run, run.job.id, vid, dir);
  co_await report("thumbnail", 100, true);

  // 3. One decode: the faststart MP4 and every HLS rendition.
  auto ladder = media::plan_ladder(probe);
  auto argv = media::transcode_command(tools_, original, probe, ladder, work.string(), settings_.limits);
  const std::string_view stage = "hls";
  co_await report(stage, 0, true);
  media::progress_parser progress(probe.duration_sec);
  std::optional<double> pending;  // the latest percent, reported by the loop below
  auto on_line = [&progress, &pending](std::string_view line) {
    if (progress.feed(line)) pending = progress.percent();
  };
  run.child = std::make_shared<media::child_process>(io_.get_executor(), settings_.child_limits);
  auto timeout = media::transcode_timeout(probe, settings_.limits);
  // Report progress while the child runs: a small loop beside it.
  bool transcode_done = false;
  asio::steady_timer tick(io_);
  auto reporter = [&]() -> asio::awaitable<void> {
    while (!transcode_done) {
      tick.expires_after(std::chrono::milliseconds(250));
      co_await tick.async_wait(use_tuple);
      if (pending && !transcode_done) {
        double p = *pending;
        pending.reset();
        co_await report(stage, std::min(p, 99.0), false);
      }
    }
  };
  bool reporter_done = false;
  asio::co_spawn(io_, reporter(), [&reporter_done](std::exception_ptr) { reporter_done = true; });
  auto result = co_await run.child->run(argv, on_line, timeout);
  transcode_done = true;
  tick.cancel();
  while (!reporter_done) {
    asio::steady_timer settle(io_);
    settle.expires_after(std::chrono::milliseconds(5));
    co_await settle.async_wait(use_tuple);
  }
  run.check();
  if (!result.ok()) fail_run(media::step::transcode, result, run.job.id, vid, dir);

  // 4. The master playlist with measured bandwidths; then everything moves into place.
  bool has_audio = probe.audio_codec.has_value();
  auto finish_files = [&work, &dir, &ladder, has_audio]() -> std::string {
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
    // Replace the outputs of any earlier processing.
    storage::remove_tree(dir / "hls");
    storage::remove_tree(dir / "thumbs");
    fs::rename(work / "hls", dir / "hls");
    fs::rename(work / "video.mp4", dir / "video.mp4");
    fs::rename(work / "poster.jpg", dir / "poster.jpg");
    return json::serialize(renditions);
  };
  run.check();
  std::string renditions;
  try {
    renditions = co_await db_.pool().offload(finish_files);
  } catch (const std::exception& e) {
    log::warn("storing the outputs failed", {{"job", run.job.id}, {"video", vid}, {"error", e.what()}});
    throw transient_failure("Storing the processed video failed.");
  }
  std::string now = now_iso();
  const std::string& job_id = run.job.id;
  const std::string& owner = run.owner;
  auto ready = co_await db_.write([&](db::transaction& s) -> std::optional<model::video> {
    if (!db::finish_job(s, job_id, owner, model::job_state::succeeded, std::nullopt, now)) return std::nullopt;
    db::set_video_ready(s, vid, renditions, now);
    return db::find_video(s, org, vid);
  });
  if (!ready) throw job_stopped(run.stopped == stop_reason::none ? stop_reason::lease_lost : run.stopped);
  if (on_video_changed) on_video_changed(vid);
  log::info("video ready", {{"video", vid}, {"renditions", ladder.size()}, {"remux", media::can_remux(probe)}});
  publish(org, "video:ready", json::object{{"video", video_view_(*ready)}});
}

}  // namespace reel::jobs
