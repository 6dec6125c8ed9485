// How the accept loop behaves when accept(2) fails (out of descriptors:
// EMFILE, ENFILE; or a transient network error): it waits before trying
// again, 10 ms at first, doubling up to 1 s, back to the start after an
// accept succeeds; and it logs the first failure and then at most one line
// per interval, with the number of failures not logged since. Time is
// passed in, so tests need no clock. Not thread-safe (the loop's).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

namespace reel::http {

class accept_backoff {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit accept_backoff(std::chrono::milliseconds first = std::chrono::milliseconds(10),
                          std::chrono::milliseconds max = std::chrono::seconds(1),
                          std::chrono::milliseconds log_interval = std::chrono::seconds(5))
      : first_(first), max_(max), log_interval_(log_interval), next_(first) {}

  struct step {
    std::chrono::milliseconds wait;  // before the next accept
    bool log = false;                // whether to log this failure
    std::uint64_t suppressed = 0;    // failures not logged since the last line (when `log`)
  };
  // After a failed accept at `now`.
  step failed(time_point now) {
    step s{next_};
    next_ = std::min(next_ * 2, max_);
    ++failures_;
    if (!logged_ || now - *logged_ >= log_interval_) {
      s.log = true;
      s.suppressed = unlogged_;
      unlogged_ = 0;
      logged_ = now;
    } else {
      ++unlogged_;
    }
    return s;
  }
  // After an accept succeeded: the failures since the previous success (0
  // when there were none: nothing to report), and the wait starts over.
  std::uint64_t succeeded() {
    std::uint64_t n = failures_;
    failures_ = unlogged_ = 0;
    next_ = first_;
    logged_.reset();
    return n;
  }

 private:
  std::chrono::milliseconds first_, max_, log_interval_, next_;
  std::uint64_t failures_ = 0, unlogged_ = 0;
  std::optional<time_point> logged_;
};

}  // namespace reel::http
