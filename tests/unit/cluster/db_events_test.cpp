// Events from a worker process to the API nodes through the database
// (cluster/db_events.hpp), on SQLite and PostgreSQL: a writer and a tail on
// two connections to one database stand for a `reel worker` and a `reel
// serve`. Order per video, no duplicates, coalesced progress, a new tail
// starting at the newest row, flush before stopping, pruning, and (on
// PostgreSQL) a NOTIFY waking the tail long before its poll would.
#include "cluster/db_events.hpp"

#include "core/clock.hpp"
#include "db/events.hpp"
#include "db/migrations.hpp"
#include "model/events.hpp"
#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace reel::cluster {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class db_events_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (postgres()) {
      REEL_REQUIRE_POSTGRES();
      url_ = test::postgres_server::shared().create_database();
    } else {
      dir_ = reel::test::scratch_path("reel-db-events-");
      fs::remove_all(dir_);
      fs::create_directories(dir_);
    }
    worker_db_ = db::open_database(url_, dir_.string(), 2);
    api_db_ = db::open_database(url_, dir_.string(), 2);
    db::migrate(*worker_db_, to_iso8601(clock_.now()));
    worker_gateway_ = std::make_unique<db::gateway>(pool_, *worker_db_);
    api_gateway_ = std::make_unique<db::gateway>(pool_, *api_db_);
  }
  void TearDown() override {
    if (tail_) {
      tail_->stop();
      run_until([this] { return !tail_->running(); }, 5s);
      tail_.reset();
    }
    hub_.reset();
    pool_.join();
    worker_db_.reset();
    api_db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  bool postgres() const { return GetParam() == "postgres"; }

  // The API node's side, started, and positioned at the newest row.
  void start_tail(event_tail_options o = {}) {
    tail_ = std::make_unique<database_event_tail>(io_, *api_gateway_,
                                                  db::listen_for_events(*api_db_, io_.get_executor()), o);
    tail_->on_event = [this](const event& e) { heard_.push_back(e); };
    tail_->start();
    ASSERT_TRUE(run_until([this] { return tail_->positioned(); }, 5s));
  }
  database_event_hub& hub() {
    if (!hub_) hub_ = std::make_unique<database_event_hub>(io_, *worker_gateway_, clock_, writer_options_);
    return *hub_;
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) io_.run_one_for(5ms);
    return done();
  }
  // Runs `task` on the loop to its end.
  void run(asio::awaitable<void> task) {
    bool finished = false;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr) { finished = true; });
    run_until([&] { return finished; }, 10s);
  }
  std::vector<db::outbox_event> rows() {
    std::vector<db::outbox_event> out;
    worker_db_->transact(false, [&](db::transaction& s) { out = db::events_after(s, 0, 100'000); });
    return out;
  }
  std::vector<std::string> names_of(const std::string& video) const {
    std::vector<std::string> out;
    for (const auto& e : heard_)
      if (video_id_of(e) == video) out.push_back(e.name);
    return out;
  }

  manual_clock clock_{sys_time{} + std::chrono::hours(24 * 365 * 56)};
  std::string url_;
  fs::path dir_;
  std::unique_ptr<db::database> worker_db_, api_db_;
  worker_pool pool_{2};
  std::unique_ptr<db::gateway> worker_gateway_, api_gateway_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  event_writer_options writer_options_;
  std::unique_ptr<database_event_hub> hub_;
  std::unique_ptr<database_event_tail> tail_;
  std::vector<event> heard_;
};

model::video a_video(const std::string& id, const std::string& org) {
  model::video v;
  v.id = id;
  v.organization_id = org;
  v.title = "clip";
  return v;
}

TEST_P(db_events_test, a_workers_events_reach_the_tail_in_order_once_each) {
  start_tail();
  auto v1 = a_video("v1", "org-a"), v2 = a_video("v2", "org-b");
  for (int round = 0; round < 3; ++round) {
    hub().publish(model::video_updated(v1));
    for (int p = 0; p <= 100; p += 10) hub().publish(model::video_progress("org-a", "v1", "mp4", p));
    hub().publish(model::video_progress("org-b", "v2", "probe", 0));
    run_until([this] { return hub().pending() == 0; }, 5s);  // some rounds reach the table separately
  }
  hub().publish(model::video_ready(v1));
  hub().publish(model::video_failed("org-b", "v2", "not a video"));
  ASSERT_TRUE(run_until(
      [this] {
        return names_of("v1").size() >= 4 && !names_of("v2").empty() && names_of("v1").back() == "video:ready" &&
               names_of("v2").back() == "video:failed";
      },
      10s));
  run_until([] { return false; }, 300ms);  // nothing more comes
  // v1: each round's update, then its progress (maybe coalesced, always
  // ending at 100), then ready; nothing twice, nothing out of order.
  std::vector<std::string> v1_names = names_of("v1");
  EXPECT_EQ(v1_names.back(), "video:ready");
  EXPECT_EQ(std::count(v1_names.begin(), v1_names.end(), "video:updated"), 3);
  EXPECT_EQ(std::count(v1_names.begin(), v1_names.end(), "video:ready"), 1);
  double last_percent = -1;
  std::string before;
  for (const auto& e : heard_) {
    if (video_id_of(e) != "v1") continue;
    if (e.name == "video:progress") {
      double percent = e.payload.at("percent").to_number<double>();
      if (before == "video:progress") {
        EXPECT_GT(percent, last_percent);
      }
      last_percent = percent;
    } else if (before == "video:progress") {
      EXPECT_EQ(last_percent, 100) << "the last progress before " << e.name;
    }
    EXPECT_EQ(e.organization_id, "org-a");
    before = e.name;
  }
  EXPECT_EQ(names_of("v2").back(), "video:failed");
  EXPECT_EQ(heard_.back().payload.at("error"), "not a video");
  EXPECT_LE(tail_->delivered(), rows().size());  // the writer coalesced, maybe the tail too
  EXPECT_EQ(hub().written(), rows().size());
}

TEST_P(db_events_test, a_new_tail_hears_only_what_comes_after_it_started) {
  hub().publish(model::video_progress("org-a", "old", "mp4", 50));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  ASSERT_EQ(rows().size(), 1u);
  start_tail();
  EXPECT_EQ(tail_->position(), rows().back().id);
  hub().publish(model::video_progress("org-a", "new", "mp4", 60));
  ASSERT_TRUE(run_until([this] { return !heard_.empty(); }, 5s));
  run_until([] { return false; }, 300ms);
  ASSERT_EQ(heard_.size(), 1u);
  EXPECT_EQ(video_id_of(heard_[0]), "new");
}

TEST_P(db_events_test, a_tail_drops_progress_that_a_later_progress_of_the_same_video_supersedes) {
  start_tail({.poll = 200ms, .poll_notified = 2s, .batch = 500});
  // One transaction: the tail reads these rows in one go.
  auto row = [](const std::string& org, const event& e) {
    return db::outbox_event{0, org, e.name, boost::json::serialize(e.payload), {}};
  };
  auto v = a_video("v", "o");
  std::vector<db::outbox_event> batch = {
      row("o", model::video_progress("o", "v", "mp4", 1)),
      row("o", model::video_progress("o", "w", "mp4", 7)),
      row("o", model::video_progress("o", "v", "mp4", 2)),
      row("o", model::video_progress("o", "v", "hls", 3)),
      row("o", model::video_ready(v)),
      row("o", model::video_progress("o", "v", "mp4", 4)),
      row("o", model::video_progress("o", "w", "mp4", 8)),
  };
  worker_db_->transact(true, [&](db::transaction& s) {
    db::append_order(s);
    for (const auto& r : batch) db::append_event(s, r, "2026-01-01T00:00:00.000Z");
  });
  ASSERT_TRUE(run_until([this] { return heard_.size() >= 4; }, 5s));
  run_until([] { return false; }, 300ms);
  std::vector<std::string> got;
  for (const auto& e : heard_)
    got.push_back(video_id_of(e) + " " + e.name +
                  (e.name == "video:progress" ? " " + std::to_string(e.payload.at("percent").to_number<int>()) : ""));
  EXPECT_EQ(got, (std::vector<std::string>{"v video:progress 3", "v video:ready", "v video:progress 4",
                                           "w video:progress 8"}));
}

TEST_P(db_events_test, the_writer_coalesces_queued_progress_and_flush_writes_everything) {
  auto v = a_video("v", "o");
  for (int p = 1; p <= 50; ++p) hub().publish(model::video_progress("o", "v", "mp4", p));
  hub().publish(model::video_ready(v));
  hub().publish(model::video_progress("o", "v", "mp4", 99));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  EXPECT_EQ(hub().pending(), 0u);
  auto written = rows();
  ASSERT_GE(written.size(), 3u);
  EXPECT_LT(written.size(), 10u);  // not 52 rows: queued progress was replaced
  EXPECT_EQ(written[written.size() - 2].name, "video:ready");
  EXPECT_EQ(boost::json::parse(written.back().payload).at("percent").to_number<double>(), 99);
  EXPECT_EQ(boost::json::parse(written[written.size() - 3].payload).at("percent").to_number<double>(), 50);
}

TEST_P(db_events_test, the_writer_prunes_rows_older_than_it_keeps) {
  writer_options_.keep = 5min;
  writer_options_.prune_every = 1min;
  hub().publish(model::video_progress("o", "old", "mp4", 1));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  clock_.advance(4min);
  hub().publish(model::video_progress("o", "recent", "mp4", 1));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  EXPECT_EQ(rows().size(), 2u);  // nothing is older than 5 minutes yet
  clock_.advance(2min);
  hub().publish(model::video_progress("o", "new", "mp4", 1));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  std::set<std::string> left;
  for (const auto& r : rows()) left.insert(std::string(boost::json::parse(r.payload).at("id").as_string()));
  EXPECT_EQ(left, (std::set<std::string>{"recent", "new"}));
}

TEST_P(db_events_test, a_notification_wakes_the_tail_long_before_its_poll) {
  if (!postgres()) GTEST_SKIP() << "SQLite has no notifications: its tails poll (every 200 ms)";
  start_tail({.poll = 30s, .poll_notified = 30s, .batch = 500});
  run_until([] { return false; }, 500ms);  // the listener is connected
  auto started = std::chrono::steady_clock::now();
  hub().publish(model::video_progress("o", "v", "mp4", 5));
  ASSERT_TRUE(run_until([this] { return !heard_.empty(); }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_P(db_events_test, a_stopped_tail_delivers_nothing_more) {
  start_tail({.poll = 50ms, .poll_notified = 50ms, .batch = 500});
  tail_->stop();
  ASSERT_TRUE(run_until([this] { return !tail_->running(); }, 5s));
  hub().publish(model::video_progress("o", "v", "mp4", 5));
  run([this]() -> asio::awaitable<void> { co_await hub().flush(5s); }());
  run_until([] { return false; }, 300ms);
  EXPECT_TRUE(heard_.empty());
}

INSTANTIATE_TEST_SUITE_P(backends, db_events_test, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reel::cluster
