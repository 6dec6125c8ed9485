#include "core/offload.hpp"

#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/this_coro.hpp>

#include <atomic>
#include <stdexcept>

using namespace reel;
namespace asio = boost::asio;

TEST(offload, runs_on_the_pool_and_rethrows_on_the_loop) {
  worker_pool pool(2);
  auto loop_thread = std::this_thread::get_id();
  auto where = [] { return std::this_thread::get_id(); };
  auto fails = []() -> int { throw std::runtime_error("boom"); };
  auto ran_on = test::run([&]() -> asio::awaitable<std::thread::id> { co_return co_await pool.offload(where); }());
  EXPECT_NE(ran_on, loop_thread);
  EXPECT_THROW(test::run([&]() -> asio::awaitable<int> { co_return co_await pool.offload(fails); }()),
               std::runtime_error);
}

TEST(background_job, the_loop_goes_on_while_the_job_runs_and_wait_joins_it) {
  worker_pool pool(2);
  std::atomic<bool> release{false}, finished{false};
  int loop_steps = test::run([&]() -> asio::awaitable<int> {
    auto loop = co_await asio::this_coro::executor;
    background_job job(pool, loop);
    job.start([&] {
      while (!release) std::this_thread::yield();
      finished = true;
    });
    EXPECT_TRUE(job.busy());
    // The coroutine is not blocked by the job: it does other work, then lets the job end.
    int steps = 0;
    for (; steps < 3; ++steps) co_await asio::post(loop, asio::use_awaitable);
    EXPECT_FALSE(finished);
    release = true;
    co_await job.wait();
    EXPECT_TRUE(finished);
    EXPECT_FALSE(job.busy());
    co_await job.wait();  // nothing in flight: returns at once
    co_return steps;
  }());
  EXPECT_EQ(loop_steps, 3);
}

TEST(background_job, a_failed_job_is_reported_once_by_wait) {
  worker_pool pool(1);
  int result = test::run([&]() -> asio::awaitable<int> {
    auto loop = co_await asio::this_coro::executor;
    background_job job(pool, loop);
    job.start([] { throw std::runtime_error("disk full"); });
    int caught = 0;
    try {
      co_await job.wait();
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "disk full" ? 1 : -1;
    }
    co_await job.wait();  // the error was handed over already
    int runs = 0;
    job.start([&runs] { ++runs; });  // the job can be used again
    co_await job.wait();
    co_return caught * 10 + runs;
  }());
  EXPECT_EQ(result, 11);
}
