// Starts the real `reel` binary for integration tests: a fresh data dir,
// port 0, stderr captured to a file; reads the chosen port from the log.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace reel::test {

class server_process {
 public:
  // Starts `reel serve --port 0 --host 127.0.0.1 --data-dir <tmp>` plus `args`,
  // with `env` added to the environment, and waits for "listening". Its
  // database is the pass's (test_database_url) unless `env` or `args` name
  // one; an empty REEL_DATABASE_URL in `env` means the SQLite file.
  explicit server_process(std::vector<std::string> args = {}, std::map<std::string, std::string> env = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  unsigned short port() const { return port_; }
  int pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  // Everything the server logged so far.
  std::string log() const;
  // Waits until the log contains `text` (the server flushes its log every
  // 50 ms). Returns false after `timeout`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Sends `signo` and waits up to `timeout` for the exit. Returns the exit
  // status (exit code, or 128+signal), or -1 on timeout.
  int stop(int signo, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // True while the process runs.
  bool running();

 private:
  int pid_ = -1;
  unsigned short port_ = 0;
  std::string dir_, data_dir_, log_path_;
  int exit_status_ = -1;
};

// The path of the reel binary under test.
std::string reel_binary();
// Whether the reel binary under test runs under the sanitizers: this build is
// the ASan one, or the binary links libasan (scripts/run-tests runs the
// release build's integration tests against the ASan build's server).
bool reel_binary_sanitized();
// The path of the project's scripts/<name> (from the build's source tree:
// not __FILE__, which a compiler cache may have recorded in another checkout).
std::string project_script(const std::string& name);

// The database backend the integration tests run against:
// REEL_TEST_BACKEND=postgres (scripts/run-tests' second pass, with
// REEL_TEST_POSTGRES_DIR naming a running server) or SQLite (the default).
bool testing_postgres();

// The REEL_DATABASE_URL of the server whose data directory is `data_dir`:
// "" on SQLite (the file in the data directory); on PostgreSQL a database of
// its own, made on first use and the same for every later server, worker or
// command on that data directory.
std::string test_database_url(const std::string& data_dir);

// The start of a shell command that runs reel on `data_dir` the way the
// tests' servers run: `env` without the tests' own REEL_ variables (reel
// refuses unknown settings) and with the database of `data_dir`, e.g. for a
// `reel worker` started by a test.
std::string reel_command_env(const std::string& data_dir);

// Runs `reel` with `args` and `env` to completion; returns exit status and
// captures stdout+stderr.
int run_reel(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, std::string& output);

// A TCP port on 127.0.0.1 that is free now, for a listener started later:
// scripts/free-port's, from below the kernel's ephemeral range, where no
// outgoing connection or bind(0) elsewhere can take it meanwhile.
unsigned short free_port();

}  // namespace reel::test
