#include "jobs/processor.hpp"

#include "core/async.hpp"
#include "core/system.hpp"
#include "db/accounts.hpp"
#include "db/videos.hpp"
#include "support/db_fixture.hpp"
#include "support/media.hpp"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace model = reel::model;
using namespace reel;

namespace {

// One processor with one worker over a real store, real files and real
// ffmpeg; records every event it publishes, with when.
class processor_test : public test::db_fixture {
 protected:
  struct recorded {
    std::string name;
    boost::json::value payload;
    std::chrono::steady_clock::time_point at;
  };

  void SetUp() override {
    db_fixture::SetUp();
    gateway_.emplace(pool_, *db_);
    files_.emplace(dir_ / "data");
    media::paths tools;
    tools.ffmpeg = sys::find_executable("ffmpeg").value_or("ffmpeg");
    tools.ffprobe = sys::find_executable("ffprobe").value_or("ffprobe");
    jobs::processor_settings settings;
    settings.poll = std::chrono::milliseconds(50);
    settings.owner = "test";
    processor_.emplace(io_, *gateway_, *files_, tools, hub_, clock_, settings);
    hub_.subscribe([this](const event& e) {
      events_.push_back({e.name, e.payload, std::chrono::steady_clock::now()});
      if (on_event_) on_event_(e);
    });
  }
  void TearDown() override {
    processor_.reset();
    pool_.join();
    db_fixture::TearDown();
  }

  // A queued video of a new organization with a clip as its original, and its job.
  void enqueue_clip(const test::clip_options& clip) {
    const std::string t = "2000-01-01T00:00:00.000Z";
    fs::path original = files_->video_dir(org_, video_id_) / "original";
    fs::create_directories(original.parent_path());
    test::make_clip(dir_ / "clip.mp4", clip);  // ffmpeg picks the container by the name
    fs::rename(dir_ / "clip.mp4", original);
    model::video v;
    v.id = video_id_;
    v.organization_id = org_;
    v.title = "clip";
    v.original_filename = "clip.mp4";
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

  // Runs the loop until `done` is called (it stops the processor first) or the time is up.
  void run(std::chrono::seconds limit) {
    asio::steady_timer guard(io_, limit);
    guard.async_wait([this](boost::system::error_code ec) {
      if (!ec) io_.stop();
    });
    processor_->start();
    io_.run();
  }
  void done() {
    processor_->stop([this] { io_.stop(); });
  }
  // Stops once the job has ended. (Not at once on an event: a stop while the
  // job records its outcome counts as a shutdown.)
  asio::awaitable<void> done_when_idle() {
    asio::steady_timer poll(io_);
    while (processor_->running_jobs() > 0) {
      poll.expires_after(std::chrono::milliseconds(10));
      co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    done();
  }
  asio::awaitable<void> cancel_then_done() {
    co_await processor_->cancel_video(video_id_);
    done();
  }

  model::job stored_job() {
    std::optional<model::job> j;
    db_->transact(false, [&](db::transaction& s) { j = db::find_job(s, job_id_); });
    return *j;
  }
  std::vector<recorded> progress_of(std::string_view stage) const {
    std::vector<recorded> out;
    for (const auto& e : events_)
      if (e.name == "video:progress" && e.payload.at("stage").as_string() == stage) out.push_back(e);
    return out;
  }

  const std::string org_ = "org-1", video_id_ = "vid-1", job_id_ = "job-1";
  asio::io_context io_;
  worker_pool pool_{2};
  std::optional<db::gateway> gateway_;
  std::optional<storage::layout> files_;
  local_event_hub hub_;
  system_clock clock_;
  std::optional<jobs::processor> processor_;
  std::vector<recorded> events_;
  std::function<void(const event&)> on_event_;
};

}  // namespace

TEST_F(processor_test, transcode_progress_is_published_at_most_four_times_a_second_then_the_video_is_ready) {
  enqueue_clip({.seconds = 20, .width = 640, .height = 480, .video_codec = "mpeg4"});
  on_event_ = [this](const event& e) {
    if (e.name == "video:ready" || e.name == "video:failed") asio::co_spawn(io_, done_when_idle(), log_failure("done"));
  };
  run(std::chrono::seconds(180));

  ASSERT_FALSE(events_.empty());
  EXPECT_EQ(events_.back().name, "video:ready");
  EXPECT_EQ(events_.back().payload.at("video").at("id").as_string(), video_id_);
  EXPECT_EQ(events_.back().payload.at("video").at("status").as_string(), "ready");
  std::vector<std::string> stages;
  for (const auto& e : events_) {
    if (e.name != "video:progress") continue;
    EXPECT_EQ(e.payload.at("id").as_string(), video_id_);
    std::string stage(e.payload.at("stage").as_string());
    if (stages.empty() || stages.back() != stage) stages.push_back(stage);
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"probe", "thumbnail", "hls"}));
  auto hls = progress_of("hls");
  ASSERT_FALSE(hls.empty());
  EXPECT_EQ(hls.front().payload.at("percent").to_number<double>(), 0);
  for (std::size_t i = 1; i < hls.size(); ++i) {
    EXPECT_GE(hls[i].at - hls[i - 1].at, std::chrono::milliseconds(245)) << "event " << i;
    double p = hls[i].payload.at("percent").to_number<double>();
    EXPECT_GE(p, hls[i - 1].payload.at("percent").to_number<double>());
    EXPECT_LE(p, 99);
  }

  EXPECT_EQ(stored_job().state, model::job_state::succeeded);
  fs::path dir = files_->video_dir(org_, video_id_);
  EXPECT_TRUE(fs::exists(dir / "video.mp4"));
  EXPECT_TRUE(fs::exists(dir / "poster.jpg"));
  EXPECT_TRUE(fs::exists(dir / "hls" / "master.m3u8"));
  EXPECT_FALSE(fs::exists(dir / ("work-" + job_id_)));
  EXPECT_EQ(processor_->running_jobs(), 0u);
}

TEST_F(processor_test, cancelling_during_the_transcode_stops_ffmpeg_and_removes_the_videos_files) {
  enqueue_clip({.seconds = 60, .width = 640, .height = 480, .video_codec = "mpeg4"});
  bool cancelled = false;
  on_event_ = [&](const event& e) {
    if (cancelled || e.name != "video:progress" || e.payload.at("stage").as_string() != "hls") return;
    if (e.payload.at("percent").to_number<double>() == 0) return;  // mid-transcode: the reporter is running
    cancelled = true;
    asio::co_spawn(io_, cancel_then_done(), log_failure("cancel"));
  };
  auto started = std::chrono::steady_clock::now();
  run(std::chrono::seconds(180));

  EXPECT_TRUE(cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
  EXPECT_EQ(stored_job().state, model::job_state::cancelled);
  EXPECT_FALSE(fs::exists(files_->video_dir(org_, video_id_)));
  for (const auto& e : events_) EXPECT_NE(e.name, "video:ready");
  EXPECT_EQ(processor_->running_jobs(), 0u);
}
