// A child process as an object: argv (never a shell string), stdout handed
// over line by line, the tail of stderr kept for the failure reason, a
// timeout, terminate(), and always reaped. Loop thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace reel::media {

struct child_result {
  int exit_code = -1;   // the process's exit code (-1 when it could not start)
  int signal = 0;       // the signal that ended it, 0 if it exited
  bool killed = false;  // terminated by terminate() or the timeout
  bool timed_out = false;
  std::string stderr_tail;  // the last few KiB of stderr
  std::string start_error;  // why it could not start, if it could not
  int start_errno = 0;      // its errno when known (EMFILE, EAGAIN, ENOMEM...), else 0
  bool ok() const noexcept { return exit_code == 0 && !killed && start_error.empty(); }
};

// The resources a child may use, set between fork and exec. A child past
// its memory limit fails to allocate (ffmpeg then exits with an error); past
// its CPU time it gets SIGXCPU, then SIGKILL 5 s later. No core dumps.
struct child_limits {
  // RLIMIT_AS: the child's address space, in bytes (0: unlimited). ffmpeg's
  // threads reserve far more than they touch: see REEL_FFMPEG_MEMORY_MB.
  std::uint64_t memory_bytes = std::uint64_t(4096) << 20;
  // RLIMIT_CPU, in seconds; 0: derived from the run's timeout, as much CPU
  // time as all of the machine's CPUs give in that time.
  std::chrono::seconds cpu{0};
};

class child_process {
 public:
  explicit child_process(boost::asio::any_io_executor ex, child_limits limits = {})
      : ex_(std::move(ex)), limits_(limits) {}
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // Runs argv[0] (a full path) with the rest as arguments. `on_line` gets
  // each line of stdout (without the newline). Completes once the child has
  // exited and been reaped. Children run at a lower CPU priority (nice 10),
  // so that the server's own loop stays responsive, and under the limits.
  boost::asio::awaitable<child_result> run(const std::vector<std::string>& argv,
                                           const std::function<void(std::string_view)>& on_line,
                                           std::chrono::milliseconds timeout);

  // Kills the child (SIGKILL) if it runs. Safe to call at any time.
  void terminate();
  bool running() const noexcept { return pid_ > 0; }

 private:
  boost::asio::any_io_executor ex_;
  child_limits limits_;
  int pid_ = -1;
  bool kill_requested_ = false;
};

// A trimmed, one-line summary of an ffmpeg/ffprobe stderr tail for a
// failure reason: its last non-empty line.
std::string last_line(std::string_view text);

}  // namespace reel::media
