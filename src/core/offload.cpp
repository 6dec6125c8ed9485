#include "core/offload.hpp"

#include "core/async.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cassert>

namespace reel {

worker_pool::worker_pool(unsigned threads, int nice) : context_(static_cast<int>(threads)) {
  work_.emplace(context_.get_executor());
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    threads_.emplace_back([this, nice] {
      // Linux applies setpriority(PRIO_PROCESS, tid) to the one thread.
      if (nice > 0) {
        // SCHED_BATCH: a pool thread never preempts the loop on wake-up;
        // nice: it gets a smaller share of a contended core.
        sched_param param{};
        ::sched_setscheduler(0, SCHED_BATCH, &param);
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);
      }
      context_.run();
    });
  }
}

void worker_pool::join() {
  work_.reset();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

background_job::background_job(worker_pool& pool, boost::asio::any_io_executor loop)
    : pool_(pool), loop_(loop), state_(std::make_shared<state>(loop)) {}

void background_job::start(std::function<void()> fn) {
  assert(!state_->busy);
  state_->busy = true;
  // The loop keeps running while a job is out (the work guard), and the
  // shared state only ever dies on the loop thread: the pool's lambda hands
  // its reference over before it returns.
  auto work = boost::asio::make_work_guard(loop_);
  boost::asio::post(pool_.executor(), [st = state_, work = std::move(work), fn = std::move(fn)]() mutable {
    std::exception_ptr error;
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
    fn = nullptr;  // the job's captures go now, not whenever this lambda is destroyed
    auto loop = work.get_executor();
    boost::asio::post(loop, [st = std::move(st), work = std::move(work), error]() mutable {
      st->busy = false;
      st->error = error;
      st->wake.cancel();
      work.reset();
    });
  });
}

boost::asio::awaitable<void> background_job::wait() {
  std::shared_ptr<state> st = state_;
  while (st->busy) {
    st->wake.expires_at(boost::asio::steady_timer::time_point::max());
    co_await st->wake.async_wait(use_tuple);  // cancelled when the job ends
  }
  if (st->error) std::rethrow_exception(std::exchange(st->error, nullptr));
}

}  // namespace reel
