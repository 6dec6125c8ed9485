// An event loop for the Redis client tests, run by the test's thread: wait
// for a condition, or for a coroutine's result, with a deadline; and the
// client options those tests use.
#pragma once

#include "redis/client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>

namespace reel::test {

class redis_loop {
 public:
  // Generous: the tests run on loaded 2-core machines and under sanitizers.
  static constexpr std::chrono::seconds k_patience{20};

  // Runs the loop until `done()` or `timeout`; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = k_patience) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(10));
    return done();
  }
  // Runs the loop for `d`, whatever happens.
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }

  // Runs `task` on the loop to its end and returns its result or throws
  // what it threw; fails the test (std::runtime_error) after `timeout`.
  template <class T>
  T await(boost::asio::awaitable<T> task, std::chrono::milliseconds timeout = k_patience) {
    // On the heap: a coroutine that outlives a timeout must not write to this frame.
    struct outcome {
      std::optional<T> value;
      std::exception_ptr failure;
      bool finished = false;
    };
    auto result = std::make_shared<outcome>();
    boost::asio::co_spawn(io_, std::move(task), [result](std::exception_ptr e, T v) {
      result->finished = true;
      result->failure = e;
      if (!e) result->value.emplace(std::move(v));
    });
    if (!run_until([&] { return result->finished; }, timeout))
      throw std::runtime_error("the coroutine did not finish in time");
    if (result->failure) std::rethrow_exception(result->failure);
    return std::move(*result->value);
  }

  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  boost::asio::io_context& context() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
};

// Client options for tests: short timeouts and a quick reconnect.
inline reel::redis::client_options quick_options() {
  reel::redis::client_options o;
  o.connect_timeout = std::chrono::seconds(5);
  o.command_timeout = std::chrono::seconds(10);
  o.backoff_min = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  return o;
}

}  // namespace reel::test
