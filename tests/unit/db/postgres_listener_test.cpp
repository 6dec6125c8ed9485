// LISTEN/NOTIFY: the jobs one process enqueues wake the workers of another.
#include "db/jobs.hpp"
#include "db/migrations.hpp"

#include "support/postgres.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

using namespace reel::db;
namespace asio = boost::asio;
namespace model = reel::model;
using namespace std::chrono_literals;

namespace {

model::job listener_queued_job(const std::string& id) {
  model::job j;
  j.id = id;
  j.kind = "process_video";
  j.organization_id = "org-a";
  j.run_after = j.created_at = j.updated_at = "2026-01-01T00:00:01.000Z";
  return j;
}

// A loop for the listener's callbacks, run by the test's thread.
class loop {
 public:
  // Runs the loop until `done()` or `timeout`; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(10ms);
    return done();
  }
  // Runs the loop for `d`, whatever happens.
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }
  asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
};

// Counts the listener's calls, and that they all came on the loop's thread.
struct calls {
  int count = 0;
  bool on_loop_thread = true;
  std::function<void()> callback() {
    return [this, loop_thread = std::this_thread::get_id()] {
      ++count;
      on_loop_thread = on_loop_thread && std::this_thread::get_id() == loop_thread;
    };
  }
};

void listener_enqueue(database& db, const std::string& id) {
  db.transact(true, [&](transaction& s) { insert_job(s, listener_queued_job(id)); });
}

}  // namespace

TEST(postgres_listener, a_committed_job_wakes_the_listener_on_its_loop_and_a_rolled_back_one_does_not) {
  REEL_REQUIRE_POSTGRES();
  auto db = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
  migrate(*db, "2026-01-01T00:00:00.000Z");
  loop l;
  auto listener = listen_for_jobs(*db, l.executor());
  ASSERT_TRUE(listener);
  calls heard;
  listener->start(heard.callback());
  ASSERT_TRUE(l.run_until([&] { return heard.count == 1; }, 10s)) << "no call once connected";

  EXPECT_THROW(db->transact(true,
                            [](transaction& s) {
                              insert_job(s, listener_queued_job("rolled-back"));
                              throw std::runtime_error("changed my mind");
                            }),
               std::runtime_error);
  l.run_for(300ms);
  EXPECT_EQ(heard.count, 1) << "a rolled-back enqueue was announced";

  auto committed = std::chrono::steady_clock::now();
  listener_enqueue(*db, "j1");
  ASSERT_TRUE(l.run_until([&] { return heard.count == 2; }, 5s)) << "the committed enqueue was not heard";
  auto latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - committed).count();
  std::printf("[ listener ] heard an enqueue %.1f ms after its commit\n", latency);
  EXPECT_LT(latency, 1000);
  EXPECT_TRUE(heard.on_loop_thread);

  listener->stop();
  listener_enqueue(*db, "j2");
  l.run_for(300ms);
  EXPECT_EQ(heard.count, 2) << "a call after stop()";
}

TEST(postgres_listener, a_requeue_that_can_run_now_is_announced_and_a_retry_for_later_is_not) {
  REEL_REQUIRE_POSTGRES();
  auto db = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
  migrate(*db, "2026-01-01T00:00:00.000Z");
  listener_enqueue(*db, "j1");
  loop l;
  auto listener = listen_for_jobs(*db, l.executor());
  calls heard;
  listener->start(heard.callback());
  ASSERT_TRUE(l.run_until([&] { return heard.count == 1; }, 10s));
  auto claim_and_requeue = [&](const std::string& now, const std::string& run_after) {
    db->transact(true, [&](transaction& s) {
      auto j = claim_job(s, "w", now, "2026-01-01T01:00:00.000Z");
      ASSERT_TRUE(j);
      EXPECT_TRUE(requeue_job(s, j->id, "w", "failed", run_after, now));
    });
  };
  claim_and_requeue("2026-01-01T00:01:00.000Z", "2026-01-01T00:01:30.000Z");  // a retry with backoff
  l.run_for(300ms);
  EXPECT_EQ(heard.count, 1);
  claim_and_requeue("2026-01-01T00:02:00.000Z", "2026-01-01T00:02:00.000Z");  // handed back at a shutdown
  EXPECT_TRUE(l.run_until([&] { return heard.count == 2; }, 5s));
}

// A server of its own: stopping it closes every session on it.
TEST(postgres_listener, reconnects_when_the_server_returns_and_calls_once_connected_again) {
  REEL_REQUIRE_POSTGRES();
  auto server = reel::test::postgres_server::start();
  auto db = open_database(server->url(), "", 2);
  migrate(*db, "2026-01-01T00:00:00.000Z");
  loop l;
  auto listener = listen_for_jobs(*db, l.executor());
  calls heard;
  listener->start(heard.callback());
  ASSERT_TRUE(l.run_until([&] { return heard.count == 1; }, 10s));

  server->stop_for_now();
  l.run_for(1500ms);  // a few attempts to reconnect fail meanwhile
  EXPECT_EQ(heard.count, 1);
  server->start_again();
  ASSERT_TRUE(l.run_until([&] { return heard.count == 2; }, 15s)) << "no call after reconnecting";
  listener_enqueue(*db, "j1");
  EXPECT_TRUE(l.run_until([&] { return heard.count == 3; }, 5s)) << "an enqueue after the restart was not heard";
}

TEST(postgres_listener, stops_at_once_while_it_cannot_connect) {
  REEL_REQUIRE_POSTGRES();
  auto server = reel::test::postgres_server::start();
  auto db = open_database(server->url(), "", 1);
  server->stop_for_now();
  loop l;
  auto listener = listen_for_jobs(*db, l.executor());
  calls heard;
  listener->start(heard.callback());
  l.run_for(600ms);
  auto stopping = std::chrono::steady_clock::now();
  listener->stop();
  listener.reset();  // joins its thread
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 500ms);
  EXPECT_EQ(heard.count, 0);
}

TEST(sqlite_listener, there_is_none_and_claims_take_no_row_locks) {
  auto dir = std::filesystem::temp_directory_path() / ("reel-sqlite-listener-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto db = open_database("", dir.string(), 1);
    migrate(*db, "2026-01-01T00:00:00.000Z");
    loop l;
    EXPECT_FALSE(listen_for_jobs(*db, l.executor()));
    db->transact(true, [](transaction& s) {
      EXPECT_FALSE(s.locks_rows());
      insert_job(s, listener_queued_job("j1"));  // announcing is a no-op
      EXPECT_TRUE(claim_job(s, "w", "2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"));
    });
  }
  std::filesystem::remove_all(dir);
}
