// A throwaway PostgreSQL server for tests (scripts/postgres), and a fresh
// database on it per test.
//
// One shared server per test process, started when a test first asks for it
// and stopped when the process exits, whether tests passed or failed (and by
// the script's watcher if the process dies). REEL_TEST_POSTGRES_DIR names a
// server started beforehand with `scripts/postgres start` to use instead (it
// is left running). REEL_TEST_POSTGRES=0 skips the tests that need
// PostgreSQL; otherwise a server that cannot start fails them.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace reel::test {

// Runs `command` with /bin/sh and returns its stdout, without the last
// newline. Throws std::runtime_error when it exits non-zero.
inline std::string run_checked(const std::string& command) {
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

// True when REEL_TEST_POSTGRES=0 asks to skip the PostgreSQL tests.
inline bool postgres_tests_disabled() {
  const char* v = std::getenv("REEL_TEST_POSTGRES");
  return v && std::string(v) == "0";
}

#define REEL_REQUIRE_POSTGRES()                                                                           \
  do {                                                                                                    \
    if (::reel::test::postgres_tests_disabled())                                                          \
      GTEST_SKIP() << "PostgreSQL tests skipped: REEL_TEST_POSTGRES=0 (unset it to run them; they start " \
                      "a server with scripts/postgres)";                                                  \
  } while (0)

class postgres_server {
 public:
  // A private server of its own (in a new directory, TCP too when `tcp`),
  // stopped and removed by the destructor. Throws when it cannot start.
  static std::unique_ptr<postgres_server> start(bool tcp = false) {
    std::string args = tcp ? " start --tcp" : " start";
    std::string dir = run_checked(script() + args + " --watch " + std::to_string(::getpid()));
    return std::unique_ptr<postgres_server>(new postgres_server(dir, true));
  }

  // The server this process's tests share: REEL_TEST_POSTGRES_DIR's, or one
  // started on first use and stopped at exit.
  static postgres_server& shared() {
    static std::unique_ptr<postgres_server> server = [] {
      if (const char* dir = std::getenv("REEL_TEST_POSTGRES_DIR"); dir && *dir)
        return std::unique_ptr<postgres_server>(new postgres_server(dir, false));
      return start();
    }();
    return *server;
  }

  // Stops an owned server; on a shared one started elsewhere, drops the
  // databases this process made.
  ~postgres_server() {
    if (owned_) {
      [[maybe_unused]] int status = std::system((script() + " stop " + dir_ + " >/dev/null 2>&1").c_str());
      return;
    }
    for (const auto& name : created_) {
      try {
        admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (const std::exception&) {
      }
    }
  }
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  const std::string& dir() const { return dir_; }

  // The URL of `database` through the Unix socket, as role reel.
  std::string url(const std::string& database = "reel") const {
    std::string u = run_checked(script() + " url " + dir_);
    return replace_database(u, database);
  }
  // The same over TCP with the password (servers started with tcp only).
  std::string tcp_url(const std::string& database = "reel") const {
    return replace_database(run_checked(script() + " url --tcp " + dir_), database);
  }

  // A new, empty database; returns its URL.
  std::string create_database() {
    static std::atomic<int> count{0};
    std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++count);
    admin("CREATE DATABASE " + name);
    created_.push_back(name);
    return url(name);
  }

  // Runs `sql` outside a transaction (CREATE DATABASE cannot run in one).
  void admin(const std::string& sql, const std::string& database = "reel") const {
    std::string u = url(database);
    PGconn* c = PQconnectdb(u.c_str());
    std::string problem;
    if (PQstatus(c) != CONNECTION_OK) {
      problem = PQerrorMessage(c);
    } else {
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        problem = PQresultErrorMessage(r);
      PQclear(r);
    }
    PQfinish(c);
    if (!problem.empty()) throw std::runtime_error(sql + ": " + problem);
  }

  // pg_ctl restart: every session is closed; the data stays.
  void restart() const { run_checked(script() + " restart " + dir_); }
  // Stops the server, keeping its data, until start_again().
  void stop_for_now() const { run_checked(script() + " stop --keep " + dir_); }
  void start_again() const { run_checked(script() + " start " + dir_ + " >/dev/null"); }

 private:
  postgres_server(std::string dir, bool owned) : dir_(std::move(dir)), owned_(owned) {}

  static std::string script() { return project_script("postgres"); }
  // postgres://reel@/reel?host=... → postgres://reel@/<database>?host=...
  static std::string replace_database(std::string u, const std::string& database) {
    auto path = u.find('/', u.find("://") + 3);
    auto end = u.find('?', path);
    return u.replace(path + 1, (end == std::string::npos ? u.size() : end) - path - 1, database);
  }

  std::string dir_;
  bool owned_;
  std::vector<std::string> created_;
};

}  // namespace reel::test
