// Running blocking or CPU-heavy work off the event loop: `offload` runs a
// callable on the thread pool and resumes the awaiting coroutine on its own
// executor (the loop) with the result, or rethrows what the callable threw.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace reel {

namespace detail {

template <class R>
struct offload_outcome {
  std::exception_ptr error;
  std::optional<R> value;
};

template <>
struct offload_outcome<void> {
  std::exception_ptr error;
};

}  // namespace detail

// The pool that takes blocking and CPU work (argon2id, SQLite, file metadata).
// Its threads run at a lower CPU priority (`nice`) than the event loop, so
// that when every core is busy hashing, the loop still gets the CPU first:
// the loop's latency is the product's, the pool's is a request's.
// Thread-safe. Owned by the composition root.
class worker_pool {
 public:
  explicit worker_pool(unsigned threads, int nice = 10);
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() { join(); }

  boost::asio::io_context::executor_type executor() noexcept { return context_.get_executor(); }
  unsigned size() const noexcept { return static_cast<unsigned>(threads_.size()); }

  // Lets queued work finish, then waits for the threads to exit.
  void join();

  // Runs `fn()` on the pool; the awaiting coroutine resumes on its own
  // executor. Exceptions from `fn` are rethrown at the co_await.
  //
  // `fn` is taken by reference and must be awaited in the same full
  // expression: it then lives until the work is done and is never copied.
  // Name the lambda first (`auto work = [..] {..}; co_await pool.offload(work);`):
  // GCC 12 relocates lambda temporaries inside a coroutine frame bitwise,
  // which corrupts captured std::strings (seen under ASan).
  template <class F>
  auto offload(F&& fn) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto* callable = &fn;
    auto outcome =
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(detail::offload_outcome<R>)>(
            [this](auto handler, auto* f) {
              auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
              boost::asio::post(context_, [handler = std::move(handler), work = std::move(work), f]() mutable {
                detail::offload_outcome<R> out;
                try {
                  if constexpr (std::is_void_v<R>)
                    (*f)();
                  else
                    out.value.emplace((*f)());
                } catch (...) {
                  out.error = std::current_exception();
                }
                auto ex = work.get_executor();
                boost::asio::post(ex, [handler = std::move(handler), out = std::move(out)]() mutable {
                  std::move(handler)(std::move(out));
                });
              });
            },
            boost::asio::use_awaitable, callable);
    if (outcome.error) std::rethrow_exception(outcome.error);
    if constexpr (!std::is_void_v<R>) co_return std::move(*outcome.value);
  }

 private:
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

// One job at a time on the pool, in the background, while the coroutine
// that started it goes on: e.g. writing a batch of upload bytes while the
// next batch is read from the socket. Loop thread only.
//
// The job must own what it needs or use only objects that outlive the next
// wait(): await wait() on every path, errors included, before anything the
// job touches goes away. (A job still running when this object dies keeps
// only its own captures and the shared state alive.)
class background_job {
 public:
  background_job(worker_pool& pool, boost::asio::any_io_executor loop);
  bool busy() const noexcept { return state_->busy; }
  // Starts `fn` on the pool. Requires !busy(): await wait() first.
  void start(std::function<void()> fn);
  // Waits for the job in flight, if any; rethrows what it threw (once).
  boost::asio::awaitable<void> wait();

 private:
  struct state {
    explicit state(boost::asio::any_io_executor loop) : wake(loop) {}
    bool busy = false;
    std::exception_ptr error;
    boost::asio::steady_timer wake;
  };
  worker_pool& pool_;
  boost::asio::any_io_executor loop_;
  std::shared_ptr<state> state_;
};

}  // namespace reel
