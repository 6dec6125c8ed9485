#include "core/offload.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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

}  // namespace reel
