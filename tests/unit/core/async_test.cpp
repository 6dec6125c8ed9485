#include "core/async.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <stdexcept>

using namespace reel;
namespace asio = boost::asio;

TEST(describe, names_the_exception_or_nothing) {
  EXPECT_EQ(describe(nullptr), "");
  EXPECT_EQ(describe(std::make_exception_ptr(std::runtime_error("boom"))), "boom");
  EXPECT_EQ(describe(std::make_exception_ptr(42)), "unknown exception");
}

TEST(log_failure, is_a_completion_handler_with_or_without_a_result) {
  asio::io_context io;
  bool ran = false;
  auto fails = [&]() -> asio::awaitable<int> {
    ran = true;
    throw std::runtime_error("boom");
    co_return 1;
  };
  asio::co_spawn(io, fails(), log_failure("test task"));
  asio::co_spawn(
      io, []() -> asio::awaitable<void> { co_return; }(), log_failure("quiet task"));
  EXPECT_NO_THROW(io.run());
  EXPECT_TRUE(ran);
}

TEST(periodic_task, runs_again_after_each_run_even_when_one_fails_and_stops_when_told) {
  asio::io_context io;
  int runs = 0;
  periodic_task* self = nullptr;
  periodic_task task(io, "test sweep", std::chrono::milliseconds(1), [&]() -> asio::awaitable<void> {
    ++runs;
    if (runs == 2) throw std::runtime_error("second run fails");
    if (runs == 4) self->stop();
    co_return;
  });
  self = &task;
  task.start();
  io.run();  // returns once stop() leaves nothing scheduled
  EXPECT_EQ(runs, 4);
}
