// An idle worker wakes when a job is enqueued, not at its next poll: when
// this process says so (notify), when the listener hears another process
// enqueue, and when the word comes while the worker is busy finding nothing.
#include "jobs/processor.hpp"

#include "db/migrations.hpp"
#include "support/postgres.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

using namespace reel;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Holds the thread of the first write transaction after arm(), once it has
// committed, until release(): a claim that found nothing, not yet returned.
class gated_database final : public db::database {
 public:
  explicit gated_database(db::database& inner) : inner_(inner) {}
  void transact(bool write, const std::function<void(db::transaction&)>& fn) override {
    inner_.transact(write, fn);
    std::unique_lock lock(mutex_);
    if (!write || !armed_) return;
    armed_ = false;
    held_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
  }
  std::string_view backend() const noexcept override { return inner_.backend(); }

  void arm() {
    std::lock_guard lock(mutex_);
    armed_ = true;
  }
  bool wait_until_held(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  db::database& inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false, held_ = false, released_ = false;
};

// One processor with one worker polling every 30 s, its loop in a thread.
class processor_harness {
 public:
  // `listen`: with the database's job listener, as `reel worker` has.
  processor_harness(db::database& database, const fs::path& data_dir, bool listen = false)
      : files_(data_dir),
        gateway_(pool_, database),
        processor_(io_, gateway_, files_, media::paths{"ffmpeg", "ffprobe"}, hub_, clock_, settings(),
                   listen ? db::listen_for_jobs(database, io_.get_executor()) : nullptr) {}
  ~processor_harness() {
    std::promise<void> stopped;
    asio::post(io_, [this, &stopped] { processor_.stop([&stopped] { stopped.set_value(); }); });
    stopped.get_future().wait_for(10s);
    work_.reset();
    io_.stop();
    if (loop_.joinable()) loop_.join();
  }

  void start() {
    processor_.start();
    loop_ = std::thread([this] { io_.run(); });
  }
  // Calls notify() on the loop and waits until it has run.
  void notify() {
    std::promise<void> done;
    asio::post(io_, [this, &done] {
      processor_.notify();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  static jobs::processor_settings settings() {
    jobs::processor_settings s;
    s.workers = 1;
    s.poll = 30s;
    s.owner = "test:" + std::to_string(::getpid());
    return s;
  }

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  worker_pool pool_{2};
  storage::layout files_;
  db::gateway gateway_;
  local_event_hub hub_;
  system_clock clock_;
  jobs::processor processor_;
  std::thread loop_;
};

// A job with no video: a worker that claims it finds nothing to process
// and cancels it at once.
void wakeup_enqueue(db::database& db, const std::string& id) {
  model::job j;
  j.id = id;
  j.kind = "process_video";
  j.organization_id = "org-a";
  j.run_after = j.created_at = j.updated_at = to_iso8601(std::chrono::system_clock::now() - 1s);
  db.transact(true, [&](db::transaction& s) { db::insert_job(s, j); });
}

// How long until a worker took the job (it is no longer queued); nullopt
// when none did within `timeout`.
std::optional<std::chrono::milliseconds> time_until_claimed(db::database& db, const std::string& id,
                                                            std::chrono::milliseconds timeout) {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    std::optional<model::job> j;
    db.transact(false, [&](db::transaction& s) { j = db::find_job(s, id); });
    if (j && j->state != model::job_state::queued)
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::this_thread::sleep_for(5ms);
  }
  return std::nullopt;
}

fs::path scratch(const char* name) {
  auto dir = fs::temp_directory_path() / (std::string("reel-wakeup-") + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  return dir;
}

}  // namespace

// The word came while the worker's claim was looking (and found nothing):
// it must look again at once rather than sleep through its 30 s poll.
TEST(processor_wakeup, a_job_announced_while_the_worker_finds_nothing_is_claimed_at_once) {
  auto dir = scratch("race");
  {
    auto sqlite = db::open_database("", dir.string(), 2);
    db::migrate(*sqlite, "2026-01-01T00:00:00.000Z");
    gated_database gated(*sqlite);
    gated.arm();
    processor_harness h(gated, dir / "data");
    h.start();
    ASSERT_TRUE(gated.wait_until_held(10s)) << "the worker never claimed";
    wakeup_enqueue(*sqlite, "j1");  // committed after the held claim looked
    h.notify();                     // and announced before it returned
    gated.release();
    auto took = time_until_claimed(*sqlite, "j1", 5s);
    ASSERT_TRUE(took) << "the worker slept through the notification";
    std::printf("[ wake-up  ] claimed %lld ms after the held claim returned\n", static_cast<long long>(took->count()));
  }
  fs::remove_all(dir);
}

TEST(processor_wakeup, a_job_another_process_enqueues_on_postgresql_wakes_an_idle_worker_within_milliseconds) {
  REEL_REQUIRE_POSTGRES();
  auto dir = scratch("postgres");
  {
    std::string url = test::postgres_server::shared().create_database();
    auto here = db::open_database(url, "", 2);
    db::migrate(*here, "2026-01-01T00:00:00.000Z");
    auto elsewhere = db::open_database(url, "", 1);  // the other process's connections
    processor_harness h(*here, dir / "data", /*listen=*/true);
    h.start();
    std::this_thread::sleep_for(1s);  // connected and idle: only a notification can wake it for 30 s
    wakeup_enqueue(*elsewhere, "j1");
    auto took = time_until_claimed(*elsewhere, "j1", 5s);
    ASSERT_TRUE(took) << "the idle worker was not woken";
    std::printf("[ wake-up  ] claimed %lld ms after the other process committed it\n",
                static_cast<long long>(took->count()));
    EXPECT_LT(*took, 1s);
  }
  fs::remove_all(dir);
}
