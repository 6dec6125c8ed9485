// Small pieces every long-running part of reel needs around coroutines:
// a co_spawn completion handler that logs what escaped (never a silent
// `detached`), and a task that runs again a while after each run ends.
// Loop thread only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <string>

namespace reel {

// The completion token of an awaited operation that returns its error code
// (with its results) rather than throwing it.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// A completion handler for `co_spawn`: logs an exception that escaped the
// coroutine as `<what> failed` at error level, with its message. Accepts
// (and ignores) the coroutine's result, if it has one.
class log_failure {
 public:
  explicit log_failure(std::string what) : what_(std::move(what)) {}
  void operator()(std::exception_ptr e) const;
  template <class T>
  void operator()(std::exception_ptr e, const T&) const {
    (*this)(e);
  }

 private:
  std::string what_;
};

// The message of the exception `e` holds ("unknown exception" for one not
// derived from std::exception); "" for a null `e`.
std::string describe(std::exception_ptr e);

// Runs `task` every `interval` (measured from the end of the previous run)
// until stop(); a run that throws is logged as `<name> failed` and the next
// one is still scheduled. The first run comes one interval after start().
class periodic_task {
 public:
  using task = std::function<boost::asio::awaitable<void>()>;
  periodic_task(boost::asio::io_context& io, std::string name, std::chrono::milliseconds interval, task t);
  periodic_task(const periodic_task&) = delete;
  periodic_task& operator=(const periodic_task&) = delete;

  void start();
  // No run starts after this; one in progress finishes by itself.
  void stop();

 private:
  void schedule();

  boost::asio::io_context& io_;
  std::string name_;
  std::chrono::milliseconds interval_;
  task task_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace reel
