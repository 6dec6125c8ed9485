// What a job's attempts count, with real ffmpeg on both backends: a
// graceful stop gives the attempt back, the file's faults fail at once, a
// full disk is retried later without counting and succeeds once space is
// back, an output shorter than the probe fails, a restarted identity takes
// its own jobs back at once, and a job whose workers keep dying is given up.
#include "jobs/processor.hpp"

#include "core/async.hpp"
#include "core/system.hpp"
#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "db/videos.hpp"
#include "support/media.hpp"
#include "support/postgres.hpp"
#include "support/sanitizers.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace model = reel::model;
using namespace reel;
using namespace std::chrono_literals;

namespace {

class processor_attempts_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("reel-attempts-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    if (GetParam() == "postgres") {
      REEL_REQUIRE_POSTGRES();
      db_ = db::open_database(test::postgres_server::shared().create_database(), "", 2);
    } else {
      db_ = db::open_database("", dir_.string(), 2);
    }
    db::migrate(*db_, "2026-01-01T00:00:00.000Z");
    gateway_.emplace(pool_, *db_);
    // No storage reserve: these tests meet ENOSPC itself (the reserve has tests of its own).
    files_.emplace(dir_ / "data", 0);
    tools_.ffmpeg = sys::find_executable("ffmpeg").value_or("ffmpeg");
    tools_.ffprobe = sys::find_executable("ffprobe").value_or("ffprobe");
    settings_.poll = 50ms;
    settings_.retry_base = 1h;  // a counted retry would not run again within a test
    settings_.owner = "test/w0/a";
    hub_.subscribe([this](const event& e) {
      events_.push_back(e.name);
      if (on_event_) on_event_(e);
    });
  }
  void TearDown() override {
    processor_.reset();
    pool_.join();
    gateway_.reset();
    db_.reset();
    if (mounted_) ::umount2((dir_ / "data").c_str(), MNT_DETACH);
    fs::remove_all(dir_);
  }

  // A queued video whose original is the file at `source`, and its job.
  void enqueue(const fs::path& source) {
    const std::string t = to_iso8601(clock_.now());
    fs::path original = files_->video_dir(org_, video_id_) / "original";
    fs::create_directories(original.parent_path());
    fs::copy_file(source, original);
    model::video v;
    v.id = video_id_;
    v.organization_id = org_;
    v.title = "clip";
    v.original_filename = "clip";
    v.content_type = "video/mp4";
    v.size_bytes = static_cast<std::int64_t>(fs::file_size(original));
    v.created_at = v.updated_at = t;
    model::job j;
    j.id = job_id_;
    j.kind = std::string(model::k_process_video);
    j.organization_id = org_;
    j.video_id = video_id_;
    j.run_after = j.created_at = j.updated_at = t;
    write([&](db::transaction& s) {
      db::insert_organization(s, model::organization{org_, "org", t});
      db::insert_video(s, v);
      db::insert_job(s, j);
    });
  }
  fs::path clip(const test::clip_options& o, const std::string& name = "clip.mp4") {
    test::make_clip((dir_ / name).string(), o);
    return dir_ / name;
  }

  // Starts a processor and runs the loop until `done` (or the time is up).
  void run(std::chrono::seconds limit) {
    processor_.emplace(io_, *gateway_, *files_, tools_, hub_, clock_, settings_);
    asio::steady_timer guard(io_, limit);
    guard.async_wait([this](boost::system::error_code ec) {
      if (!ec) io_.stop();
    });
    processor_->start();
    io_.restart();
    io_.run();
  }
  void done() {
    processor_->stop([this] { io_.stop(); });
  }
  // Polls (on the loop) until `cond` holds, then runs `then`.
  // A check that throws counts as not yet: with RLIMIT_NOFILE lowered, a
  // PostgreSQL pool that must open a connection for it fails, and the check
  // is what puts the limit back (under load on CI it once did, and the
  // waiting ended there: the job sat queued until the test's guard).
  asio::awaitable<void> when(std::function<bool()> cond, std::function<void()> then) {
    asio::steady_timer poll(io_);
    auto holds = [&cond] {
      try {
        return cond();
      } catch (const std::exception&) {
        return false;
      }
    };
    while (!holds()) {
      poll.expires_after(20ms);
      co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    then();
  }
  void spawn_when(std::function<bool()> cond, std::function<void()> then) {
    asio::co_spawn(io_, when(std::move(cond), std::move(then)), log_failure("test"));
  }
  // Runs `then` after `d` of real time: for what must NOT happen meanwhile
  // (the idle workers poll every 50 ms, so several claims look in that time).
  void after(std::chrono::milliseconds d, std::function<void()> then) {
    auto t = std::make_shared<asio::steady_timer>(io_, d);
    t->async_wait([t, then = std::move(then)](boost::system::error_code) { then(); });
  }
  // Stops the processor once the job has ended and recorded its outcome.
  void done_when_idle() {
    spawn_when([this] { return processor_->running_jobs() == 0; }, [this] { done(); });
  }
  void done_on(std::string_view name) {
    on_event_ = [this, name](const event& e) {
      if (e.name == name) done_when_idle();
    };
  }

  template <class F>
  void write(F&& f) {
    db_->transact(true, f);
  }
  model::job stored_job() {
    std::optional<model::job> j;
    db_->transact(false, [&](db::transaction& s) { j = db::find_job(s, job_id_); });
    return *j;
  }
  model::video stored_video() {
    std::optional<model::video> v;
    db_->transact(false, [&](db::transaction& s) { v = db::find_video(s, org_, video_id_); });
    return *v;
  }
  // The running job's lease, as another process would see it.
  void set_job(const std::string& state, const std::string& owner, sys_time lease_until, int takeovers) {
    write([&](db::transaction& s) {
      s.exec(
          "UPDATE jobs SET state = ?, lease_owner = ?, lease_expires_at = ?, takeovers = ?, attempts = 1 "
          "WHERE id = ?",
          {state, owner, to_iso8601(lease_until), std::int64_t{takeovers}, job_id_});
    });
  }

  const std::string org_ = "org-1", video_id_ = "vid-1", job_id_ = "job-1";
  fs::path dir_;
  std::unique_ptr<db::database> db_;
  asio::io_context io_;
  worker_pool pool_{2};
  std::optional<db::gateway> gateway_;
  std::optional<storage::layout> files_;
  media::paths tools_;
  jobs::processor_settings settings_;
  local_event_hub hub_;
  manual_clock clock_;
  std::optional<jobs::processor> processor_;
  std::vector<std::string> events_;
  std::function<void(const event&)> on_event_;
  bool mounted_ = false;
};

}  // namespace

// Reliability issue: a claim counted the attempt and a shutdown requeue did
// not give it back, so after 3 rolling restarts during one transcode the
// next transient error failed the video at once.
TEST_P(processor_attempts_test, graceful_stops_during_the_transcode_do_not_consume_attempts) {
  enqueue(clip({.seconds = 20, .width = 640, .height = 360, .video_codec = "mpeg4"}));
  for (int restart = 0; restart < 3; ++restart) {
    on_event_ = [this](const event& e) {
      if (e.name == "video:progress" && e.payload.at("stage").as_string() == "hls") {
        on_event_ = nullptr;
        done();  // mid-transcode, as SIGTERM does
      }
    };
    run(120s);
    auto j = stored_job();
    EXPECT_EQ(j.state, model::job_state::queued) << "restart " << restart;
    EXPECT_EQ(j.attempts, 0) << "restart " << restart;
    EXPECT_EQ(j.takeovers, 0);
    EXPECT_EQ(stored_video().status, model::video_status::queued);
  }
  done_on("video:ready");
  run(180s);
  EXPECT_EQ(stored_job().state, model::job_state::succeeded);
  EXPECT_EQ(stored_job().attempts, 1);
}

// Reliability issue: a 1×1 video was scaled to 0×0 and retried 3 times.
TEST_P(processor_attempts_test, a_one_pixel_video_fails_at_once_after_one_attempt) {
  std::string cmd = "ffmpeg -v error -y -f lavfi -i 'color=c=red:size=2x2:duration=1:rate=25,scale=1:1' -c:v mpeg4 '" +
                    (dir_ / "one.mkv").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  enqueue(dir_ / "one.mkv");
  done_on("video:failed");
  run(60s);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::failed);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(stored_video().error, "The picture is too small (1×1 pixels); a video needs at least 2 pixels each way.");
}

// Reliability issue: a truncated faststart MP4 ended `ready` with a duration
// twice the real one (ffmpeg exits 0 after decode errors).
TEST_P(processor_attempts_test, an_output_shorter_than_the_probe_fails_as_a_file_that_ends_early) {
  auto whole = clip({.seconds = 10, .width = 320, .height = 240}, "whole.mp4");
  std::string cmd = "ffmpeg -v error -y -i '" + whole.string() + "' -c copy -movflags +faststart '" +
                    (dir_ / "fast.mp4").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string bytes = test::read_file(dir_ / "fast.mp4");
  ASSERT_LT(bytes.find("moov"), bytes.find("mdat"));  // the index first: the cut file still probes as 10 s
  std::ofstream(dir_ / "cut.mp4", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  enqueue(dir_ / "cut.mp4");
  done_on("video:failed");
  run(120s);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::failed);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(stored_video().error, "The file ends early: it may be truncated.");
  EXPECT_FALSE(fs::exists(files_->video_dir(org_, video_id_) / "video.mp4"));
}

TEST_P(processor_attempts_test, a_whole_faststart_mp4_is_not_taken_for_a_short_one) {
  auto whole = clip({.seconds = 3, .width = 320, .height = 240}, "whole.mp4");
  std::string cmd = "ffmpeg -v error -y -i '" + whole.string() + "' -c copy -movflags +faststart '" +
                    (dir_ / "fast.mp4").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  enqueue(dir_ / "fast.mp4");
  done_on("video:ready");
  run(120s);
  EXPECT_EQ(stored_job().state, model::job_state::succeeded);
}

// Reliability issue: videos that failed while the disk was full stayed
// failed after space returned. A real full disk: a small tmpfs.
TEST_P(processor_attempts_test, a_full_disk_is_retried_later_uncounted_and_the_job_succeeds_once_space_returns) {
  auto source = clip({.seconds = 4, .width = 320, .height = 240});
  if (::mount("tmpfs", (dir_ / "data").c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "mounting a tmpfs is not allowed here (" << std::strerror(errno) << "): run as root";
  mounted_ = true;
  enqueue(source);
  // Fill the disk: whatever the job writes next finds no space.
  {
    std::ofstream fill(dir_ / "data" / "filler", std::ios::binary);
    std::string block(64 << 10, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  settings_.resource_retry_base = 30s;
  auto before = clock_.now();
  bool freed = false;
  // Once the job is put back for the resource: free the space, let the fake
  // clock pass the retry time, and wake the worker.
  spawn_when(
      [this] {
        auto j = stored_job();
        return j.state == model::job_state::queued && j.resource_retries == 1;
      },
      [&] {
        auto j = stored_job();
        EXPECT_EQ(j.attempts, 0);  // not counted
        EXPECT_EQ(j.run_after, to_iso8601(before + 30s));
        EXPECT_EQ(stored_video().status, model::video_status::queued);
        EXPECT_EQ(stored_video().error, "The server ran out of disk space while processing the video.");
        EXPECT_TRUE(std::find(events_.begin(), events_.end(), "video:failed") == events_.end());
        fs::remove(dir_ / "data" / "filler");
        freed = true;
        clock_.advance(29s);
        processor_->notify();  // not due yet: it waits
        after(300ms, [this] {
          EXPECT_EQ(stored_job().state, model::job_state::queued);
          clock_.advance(1s);
          processor_->notify();
        });
      });
  done_on("video:ready");
  run(120s);
  EXPECT_TRUE(freed);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::succeeded);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.resource_retries, 1);
  EXPECT_EQ(stored_video().status, model::video_status::ready);
}

// The same for a storage write of reel's own (the master playlist, the
// outputs' renames): its std::system_error with ENOSPC is a resource failure.
TEST_P(processor_attempts_test, a_disk_that_fills_while_the_outputs_are_stored_is_a_resource_failure_too) {
  auto source = clip({.seconds = 2, .width = 320, .height = 240});
  if (::mount("tmpfs", (dir_ / "data").c_str(), "tmpfs", 0, "size=8m") != 0)
    GTEST_SKIP() << "mounting a tmpfs is not allowed here (" << std::strerror(errno) << "): run as root";
  mounted_ = true;
  enqueue(source);
  settings_.resource_retry_base = 30s;
  int fills = 0;
  auto fill_disk = [this, &fills] {
    ++fills;
    std::ofstream fill(dir_ / "data" / "filler", std::ios::binary);
    std::string block(64 << 10, 'x');
    while (fill.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  };
  spawn_when(
      [this] {
        auto j = stored_job();
        return j.state == model::job_state::queued && j.resource_retries == 1;
      },
      [this] {
        EXPECT_EQ(stored_job().attempts, 0);
        EXPECT_EQ(stored_video().error, "The server ran out of disk space while processing the video.");
        processor_->before_storing_outputs = nullptr;
        fs::remove(dir_ / "data" / "filler");
        clock_.advance(30s);
        processor_->notify();
      });
  done_on("video:ready");
  processor_.emplace(io_, *gateway_, *files_, tools_, hub_, clock_, settings_);
  processor_->before_storing_outputs = fill_disk;
  asio::steady_timer guard(io_, 120s);
  guard.async_wait([this](boost::system::error_code ec) {
    if (!ec) io_.stop();
  });
  processor_->start();
  io_.run();
  EXPECT_EQ(fills, 1);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::succeeded);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.resource_retries, 1);
}

// Reliability issue: out of file descriptors, jobs burned their 3 attempts
// in ~15 s and stayed failed. Here the process runs out while the outputs
// are stored (RLIMIT_NOFILE lowered to the next free descriptor).
TEST_P(processor_attempts_test, running_out_of_descriptors_is_retried_later_uncounted) {
  if (reel::test::k_sanitized) GTEST_SKIP() << reel::test::k_no_descriptors_under_sanitizers;
  enqueue(clip({.seconds = 2, .width = 320, .height = 240}));
  settings_.resource_retry_base = 30s;
  ::rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  auto exhaust = [&saved] {
    int next = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::close(next);
    ::rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(next);
    ::setrlimit(RLIMIT_NOFILE, &low);
  };
  spawn_when(
      [this] {
        auto j = stored_job();
        return j.state == model::job_state::queued && j.resource_retries == 1;
      },
      [this, &saved] {
        ::setrlimit(RLIMIT_NOFILE, &saved);
        EXPECT_EQ(stored_job().attempts, 0);
        EXPECT_EQ(stored_video().error, "The server ran out of open files while processing the video.");
        processor_->before_storing_outputs = nullptr;
        clock_.advance(30s);
        processor_->notify();
      });
  done_on("video:ready");
  processor_.emplace(io_, *gateway_, *files_, tools_, hub_, clock_, settings_);
  processor_->before_storing_outputs = exhaust;
  asio::steady_timer guard(io_, 120s);
  guard.async_wait([this](boost::system::error_code ec) {
    if (!ec) io_.stop();
  });
  processor_->start();
  io_.run();
  ::setrlimit(RLIMIT_NOFILE, &saved);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::succeeded);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.resource_retries, 1);
}

TEST_P(processor_attempts_test, resource_retries_are_capped_then_the_job_fails_in_words) {
  auto source = clip({.seconds = 2, .width = 320, .height = 240});
  enqueue(source);
  tools_.ffprobe = (dir_ / "no-such-ffprobe").string();  // cannot be started: a resource failure
  settings_.resource_retry_base = 0ms;
  settings_.max_resource_retries = 2;
  done_on("video:failed");
  run(60s);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::failed);
  EXPECT_EQ(j.resource_retries, 2);
  EXPECT_EQ(j.attempts, 1);  // the last run, that failed it
  EXPECT_EQ(stored_video().error, "The video processor could not be started.");
}

// Reliability issue: orphaned jobs waited the whole lease even when the
// same worker restarted at once.
TEST_P(processor_attempts_test, a_restarted_identity_reclaims_its_own_jobs_at_once) {
  enqueue(clip({.seconds = 2, .width = 320, .height = 240}));
  auto identity = jobs::worker_identity::acquire(dir_ / "workers", "node-a");
  // The previous holder died mid-job; its lease runs for another hour of the fake clock.
  set_job("running", identity->name() + "/dead01", clock_.now() + 1h, 0);
  settings_.identity = identity;
  settings_.owner = identity->name() + "/new001";
  done_on("video:ready");
  run(60s);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::succeeded);
  EXPECT_EQ(j.attempts, 1);  // the dead run's attempt was given back
  EXPECT_EQ(j.takeovers, 1);
}

TEST_P(processor_attempts_test, another_live_identitys_jobs_are_left_to_their_lease) {
  enqueue(clip({.seconds = 2, .width = 320, .height = 240}));
  auto live = jobs::worker_identity::acquire(dir_ / "workers", "node-a");
  auto mine = jobs::worker_identity::acquire(dir_ / "workers", "node-a");
  EXPECT_NE(live->name(), mine->name());  // two live processes never share one
  set_job("running", live->name() + "/live01", clock_.now() + 1h, 0);
  settings_.identity = mine;
  settings_.owner = mine->name() + "/new001";
  after(500ms, [this] { done_when_idle(); });
  run(30s);
  EXPECT_EQ(stored_job().state, model::job_state::running);
  EXPECT_EQ(stored_job().lease_owner, live->name() + "/live01");
}

TEST_P(processor_attempts_test, a_job_whose_workers_keep_dying_is_given_up_in_words) {
  enqueue(clip({.seconds = 2, .width = 320, .height = 240}));
  settings_.max_takeovers = 5;
  set_job("running", "dead/w0/x", clock_.now() - 1s, 5);  // the 6th takeover is one too many
  done_on("video:failed");
  run(60s);
  auto j = stored_job();
  EXPECT_EQ(j.state, model::job_state::failed);
  EXPECT_EQ(j.takeovers, 6);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(stored_video().error,
            "Processing this video was cut short by a server failure 6 times, so it was given up.");
}

INSTANTIATE_TEST_SUITE_P(backends, processor_attempts_test, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
