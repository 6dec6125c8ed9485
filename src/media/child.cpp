#include "media/child.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include "core/async.hpp"
#include "core/process_v2.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>

namespace reel::media {

namespace asio = boost::asio;
namespace bp = boost::process::v2;

namespace {

// Lowers the child's priority between fork and exec: batch scheduling (which
// also drops the short time slice the loop thread asked for and the fork
// inherited) at a higher nice value, like the thread pool's threads; and
// sets its resource limits (only async-signal-safe calls here).
struct nice_init {
  int nice = 10;
  rlim_t memory_bytes = 0;  // RLIMIT_AS; 0: unlimited
  rlim_t cpu_seconds = 0;   // RLIMIT_CPU; 0: unlimited
  template <class Launcher>
  bp::error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*) {
    sched_param param{};
    ::sched_setscheduler(0, SCHED_BATCH, &param);
    ::setpriority(PRIO_PROCESS, 0, nice);
    if (memory_bytes > 0) {
      rlimit as{memory_bytes, memory_bytes};
      if (::setrlimit(RLIMIT_AS, &as) != 0) return {errno, bp::system_category()};
    }
    if (cpu_seconds > 0) {
      rlimit cpu{cpu_seconds, cpu_seconds + 5};
      if (::setrlimit(RLIMIT_CPU, &cpu) != 0) return {errno, bp::system_category()};
    }
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    // Dies with the server: a killed server leaves no ffmpeg behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    return {};
  }
  // The exec (or the setup above) failed. Boost.Process 1.81 then calls
  // exit(), which runs the server's atexit handlers and static destructors
  // in the forked child: whatever they flush, remove or stop is the
  // parent's. Leave at once instead; the launcher has already written the
  // errno to the parent. (Variadic: 1.81 tests for this member with other
  // arguments than it calls it with.)
  template <class... Args>
  void on_exec_error(Args&&...) {
    ::_exit(127);
  }
  // A failed start: the launcher returns without reaping the child (it
  // has exited after a failed exec, or is about to: just above). Reap it,
  // so that each failed start does not leave a zombie behind. Killed
  // first: should the launcher fail after an exec that worked (its pipe
  // unreadable), nothing would own that child, and the wait must not last.
  template <class Launcher, class... Args>
  void on_error(Launcher& launcher, Args&&...) {
    if (launcher.pid <= 0) return;  // the fork itself failed
    ::kill(launcher.pid, SIGKILL);
    while (::waitpid(launcher.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
};

asio::awaitable<void> read_lines(asio::readable_pipe& pipe, const std::function<void(std::string_view)>& on_line) {
  std::string buf;
  char chunk[4096];
  for (;;) {
    auto [ec, n] = co_await pipe.async_read_some(asio::buffer(chunk), use_tuple);
    buf.append(chunk, n);
    std::size_t start = 0, nl;
    while ((nl = buf.find('\n', start)) != std::string::npos) {
      std::string_view line(buf.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (on_line) on_line(line);
      start = nl + 1;
    }
    buf.erase(0, start);
    if (buf.size() > (1 << 20)) buf.clear();  // a line that never ends
    if (ec) break;
  }
  if (!buf.empty() && on_line) on_line(buf);
}

asio::awaitable<void> read_tail(asio::readable_pipe& pipe, std::string& tail) {
  char chunk[4096];
  for (;;) {
    auto [ec, n] = co_await pipe.async_read_some(asio::buffer(chunk), use_tuple);
    tail.append(chunk, n);
    if (tail.size() > 16384) tail.erase(0, tail.size() - 8192);
    if (ec) break;
  }
}

}  // namespace

child_process::~child_process() { terminate(); }

void child_process::terminate() {
  kill_requested_ = true;
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

asio::awaitable<child_result> child_process::run(const std::vector<std::string>& argv,
                                                 const std::function<void(std::string_view)>& on_line,
                                                 std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  child_result result;
  if (kill_requested_) {
    result.killed = true;
    co_return result;
  }
  asio::readable_pipe out(ex_), err(ex_);
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  std::optional<bp::process> proc;
  nice_init init;
  init.memory_bytes = limits_.memory_bytes;
  static const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  auto timeout_s = std::chrono::ceil<std::chrono::seconds>(timeout).count();
  init.cpu_seconds =
      limits_.cpu.count() > 0 ? static_cast<rlim_t>(limits_.cpu.count()) : static_cast<rlim_t>(timeout_s) * cpus;
  try {
    proc.emplace(ex_, argv.front(), args, bp::process_stdio{nullptr, out, err}, init);
  } catch (const boost::system::system_error& e) {
    result.start_error = e.what();
    if (e.code().category() == boost::system::system_category() ||
        e.code().category() == boost::system::generic_category())
      result.start_errno = e.code().value();
    co_return result;
  } catch (const std::exception& e) {
    result.start_error = e.what();
    co_return result;
  }
  pid_ = proc->id();

  asio::steady_timer timer(ex_);
  timer.expires_after(timeout);
  timer.async_wait([this, &result](boost::system::error_code ec) {
    if (ec) return;
    result.timed_out = true;
    terminate();
  });

  co_await (read_lines(out, on_line) && read_tail(err, result.stderr_tail));
  auto [wec, code] = co_await proc->async_wait(use_tuple);
  timer.cancel();
  pid_ = -1;
  result.exit_code = wec ? -1 : code;
  if (!wec && WIFSIGNALED(proc->native_exit_code())) {
    result.signal = WTERMSIG(proc->native_exit_code());
    result.exit_code = -1;
  }
  result.killed = kill_requested_ || result.timed_out;
  co_return result;
}

std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto nl = text.find_last_of('\n');
  std::string_view line = nl == std::string_view::npos ? text : text.substr(nl + 1);
  if (line.size() > 300) line = line.substr(0, 300);
  return std::string(line);
}

}  // namespace reel::media
