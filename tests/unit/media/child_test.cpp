#include "media/child.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace reel::media;
using namespace std::chrono_literals;

namespace {

// Runs argv to completion under `limits`; returns the result and stdout.
std::pair<child_result, std::string> child_run(const std::vector<std::string>& argv, child_limits limits,
                                               std::chrono::milliseconds timeout = 10s) {
  boost::asio::io_context io;
  child_process child(io.get_executor(), limits);
  child_result result;
  std::string out;
  std::exception_ptr failure;
  auto task = [&]() -> boost::asio::awaitable<void> {
    result = co_await child.run(
        argv, [&out](std::string_view line) { out.append(line).append("\n"); }, timeout);
  };
  boost::asio::co_spawn(io, task(), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return {result, out};
}

}  // namespace

// Security issue, item 4: ffmpeg ran with no memory or CPU limit.
TEST(child_process, runs_under_the_address_space_cpu_and_core_limits) {
  child_limits limits;
  limits.memory_bytes = std::uint64_t(1500) << 20;
  limits.cpu = 77s;
  auto [r, out] = child_run({"/bin/sh", "-c", "ulimit -H -v; ulimit -S -t; ulimit -H -t; ulimit -c"}, limits);
  ASSERT_TRUE(r.ok()) << r.stderr_tail;
  EXPECT_EQ(out, std::to_string(1500 * 1024) + "\n77\n82\n0\n");
}

TEST(child_process, default_limits_are_4096_mib_and_cpu_time_from_the_timeout) {
  auto [r, out] = child_run({"/bin/sh", "-c", "ulimit -v; ulimit -t"}, {}, 20s);
  ASSERT_TRUE(r.ok()) << r.stderr_tail;
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(out, std::to_string(4096 * 1024) + "\n" + std::to_string(20 * cpus) + "\n");
}

TEST(child_process, an_allocation_past_the_memory_limit_fails) {
  child_limits limits;
  limits.memory_bytes = std::uint64_t(400) << 20;
  // x264 needs more than 400 MiB for 1080p frames.
  auto [r, out] = child_run({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080",
                             "-frames:v", "2", "-c:v", "libx264", "-threads", "4", "-f", "null", "-"},
                            limits);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.stderr_tail.find("malloc of size"), std::string::npos) << r.stderr_tail;
}

TEST(child_process, reports_the_signal_that_ended_it) {
  auto [r, out] = child_run({"/bin/sh", "-c", "kill -SEGV $$"}, {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_FALSE(r.killed);
  auto [spent, ignored] = child_run({"/bin/sh", "-c", "while :; do :; done"}, {.memory_bytes = 0, .cpu = 1s}, 120s);
  EXPECT_EQ(spent.signal, SIGXCPU);  // past its CPU time
  auto [fine, text] = child_run({"/bin/sh", "-c", "echo hi; exit 3"}, {});
  EXPECT_EQ(fine.exit_code, 3);
  EXPECT_EQ(fine.signal, 0);
  EXPECT_EQ(text, "hi\n");
}

namespace {

// Set while a test checks that a failed exec runs no exit handler in the
// child: the handler then leaves a file behind, named by its pid.
pid_t g_parent = 0;
const char* g_exit_marker = nullptr;

void mark_exit_in_a_child() {
  if (g_exit_marker && ::getpid() != g_parent) std::ofstream(g_exit_marker) << ::getpid();
}

// This process's children that have ended and not been reaped.
int zombie_children() {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close = line.rfind(')');  // the name may hold spaces and parentheses
    if (close == std::string::npos) continue;
    char state = 0;
    long ppid = 0;
    std::istringstream(line.substr(close + 1)) >> state >> ppid;
    if (state == 'Z' && ppid == ::getpid()) ++n;
  }
  return n;
}

}  // namespace

// Unit tests that run a missing program stopped the PostgreSQL server the
// test process had started: the forked child, its exec failed, called
// exit(), which ran the parent's exit handlers (and static destructors)
// there. The child now leaves with _exit, and is reaped (it was left a
// zombie).
TEST(child_process, a_program_that_cannot_be_started_runs_no_exit_handler_in_the_child) {
  int zombies = zombie_children();
  auto marker = std::filesystem::temp_directory_path() / ("reel-child-exit-" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  static const std::string path = marker.string();
  g_parent = ::getpid();
  g_exit_marker = path.c_str();
  static const bool registered = std::atexit(mark_exit_in_a_child) == 0;
  ASSERT_TRUE(registered);
  auto [r, out] = child_run({"/nonexistent/ffprobe", "-version"}, {});
  g_exit_marker = nullptr;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.start_errno, ENOENT) << r.start_error;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "an exit handler ran in the child";
  std::filesystem::remove(marker);
  EXPECT_EQ(zombie_children(), zombies);
}
