// A throwaway Redis server for tests (scripts/redis).
//
// One shared server per test process, started (with TCP) when a test first
// asks for it and stopped when the process exits, whether tests passed or
// failed (and by the script's watcher if the process dies). Tests that
// restart or stop their server start a private one. REEL_TEST_REDIS_DIR
// names a server started beforehand with `scripts/redis start --tcp` to use
// instead (it is left running). REEL_TEST_REDIS=0 skips the tests that need
// Redis; otherwise a server that cannot start fails them.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "support/process.hpp"

namespace reel::test {

namespace redis_detail {

// Runs `command` with /bin/sh and returns its stdout, without the last
// newline. Throws std::runtime_error when it exits non-zero.
inline std::string run_script(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  if (status != 0) throw std::runtime_error(command + " failed with status " + std::to_string(WEXITSTATUS(status)));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace redis_detail

// True when REEL_TEST_REDIS=0 asks to skip the Redis tests.
inline bool redis_tests_disabled() {
  const char* v = std::getenv("REEL_TEST_REDIS");
  return v && std::string(v) == "0";
}

#define REEL_REQUIRE_REDIS()                                                                               \
  do {                                                                                                     \
    if (::reel::test::redis_tests_disabled())                                                              \
      GTEST_SKIP() << "Redis tests skipped: REEL_TEST_REDIS=0 (unset it to run them; they start a server " \
                      "with scripts/redis)";                                                               \
  } while (0)

class redis_server {
 public:
  // A private server of its own (in a new directory, on a Unix socket and
  // on TCP at a free port), stopped and removed by the destructor. Throws
  // when it cannot start.
  static std::unique_ptr<redis_server> start() {
    std::string dir = redis_detail::run_script(script() + " start --tcp --watch " + std::to_string(::getpid()));
    return std::unique_ptr<redis_server>(new redis_server(dir, true));
  }

  // The server this process's tests share: REEL_TEST_REDIS_DIR's, or one
  // started on first use and stopped at exit. Tests on it use keys of their
  // own (the server is not flushed between tests).
  static redis_server& shared() {
    static std::unique_ptr<redis_server> server = [] {
      if (const char* dir = std::getenv("REEL_TEST_REDIS_DIR"); dir && *dir)
        return std::unique_ptr<redis_server>(new redis_server(dir, false));
      return start();
    }();
    return *server;
  }

  // Stops an owned server and removes its directory.
  ~redis_server() {
    if (!owned_) return;
    [[maybe_unused]] int status = std::system((script() + " stop " + dir_ + " >/dev/null 2>&1").c_str());
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  const std::string& dir() const { return dir_; }

  // redis://127.0.0.1:PORT (TCP), as `scripts/redis url` prints it.
  std::string url() const { return redis_detail::run_script(script() + " url " + dir_); }
  // unix:///DIR/redis.sock.
  std::string unix_url() const { return "unix://" + dir_ + "/redis.sock"; }

  // The server process's id (0 when it is not running).
  int pid() const {
    std::ifstream in(dir_ + "/redis.pid");
    int pid = 0;
    in >> pid;
    return pid;
  }

  // Stops and starts the server on the same port and socket: every
  // connection is closed; nothing is kept (the server has no persistence).
  void restart() const { redis_detail::run_script(script() + " restart " + dir_); }
  // Stops the server, keeping its directory and port, until start_again().
  void stop_for_now() const { redis_detail::run_script(script() + " stop --keep " + dir_); }
  void start_again() const { redis_detail::run_script(script() + " start " + dir_ + " >/dev/null"); }

 private:
  redis_server(std::string dir, bool owned) : dir_(std::move(dir)), owned_(owned) {}

  static std::string script() { return project_script("redis"); }

  std::string dir_;
  bool owned_;
};

}  // namespace reel::test
