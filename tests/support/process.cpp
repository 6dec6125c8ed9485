#include "support/process.hpp"

#include "support/postgres.hpp"
#include "support/sanitizers.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace reel::test {
namespace {

std::string make_temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "reel-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

int spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::string& output_path) {
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    if (kv.starts_with("REEL_")) continue;                // tests start from the defaults
    if (env.count(kv.substr(0, kv.find('=')))) continue;  // overridden below
    envs.push_back(kv);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

bool testing_postgres() {
  const char* backend = std::getenv("REEL_TEST_BACKEND");
  return backend && std::string(backend) == "postgres";
}

std::string test_database_url(const std::string& data_dir) {
  if (!testing_postgres()) return {};
  static std::mutex m;
  static std::map<std::string, std::string> urls;  // by data directory
  std::lock_guard lock(m);
  auto& url = urls[std::filesystem::weakly_canonical(data_dir).string()];
  if (url.empty()) url = postgres_server::shared().create_database();
  return url;
}

std::string reel_command_env(const std::string& data_dir) {
  std::string words = "env -u REEL_WORKERS";
  for (const char* name : {"REEL_TEST_BINARY", "REEL_TEST_BACKEND", "REEL_TEST_POSTGRES_DIR", "REEL_TEST_POSTGRES"})
    words += std::string(" -u ") + name;
  std::string url = test_database_url(data_dir);
  if (!url.empty()) words += " REEL_DATABASE_URL='" + url + "'";
  return words + " ";
}

server_process::server_process(std::vector<std::string> args, std::map<std::string, std::string> env) {
  dir_ = make_temp_dir();
  data_dir_ = dir_ + "/data";
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--data-dir") data_dir_ = args[i + 1];  // a server started again on a data directory
  // A test that names a database keeps it; an empty REEL_DATABASE_URL asks
  // for the SQLite file whatever the pass.
  bool chooses_database = env.count("REEL_DATABASE_URL") > 0;
  for (const auto& a : args) chooses_database = chooses_database || a == "--database-url";
  if (auto it = env.find("REEL_DATABASE_URL"); it != env.end() && it->second.empty()) env.erase(it);
  if (!chooses_database) {
    if (auto url = test_database_url(data_dir_); !url.empty()) env["REEL_DATABASE_URL"] = url;
  }
  // Suites register many accounts from 127.0.0.1: no registration limit
  // unless a test sets one (tests of the limit do).
  env.try_emplace("REEL_REGISTRATIONS_PER_ADDRESS_HOUR", "0");
  env.try_emplace("REEL_REGISTRATIONS_PER_HOUR", "0");
  // The least password hash cost reel accepts (OWASP's argon2id floor, 19 MiB
  // and 2 passes: about a fifth of the default's work), for the hundreds of
  // registrations and logins of a run; a test of the cost sets its own.
  env.try_emplace("REEL_PASSWORD_HASH_MEMORY_MIB", "19");
  env.try_emplace("REEL_PASSWORD_HASH_PASSES", "2");
  log_path_ = dir_ + "/server.log";
  std::vector<std::string> argv = {reel_binary(), "serve", "--host",     "127.0.0.1",
                                   "--port",      "0",     "--data-dir", dir_ + "/data"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = spawn(argv, env, log_path_);
  static const std::regex listening(R"(INFO listening .*port=(\d+))");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string text = read_file(log_path_);
    if (std::regex_search(text, m, listening)) {
      port_ = static_cast<unsigned short>(std::stoi(m[1]));
      return;
    }
    if (!running()) throw std::runtime_error("reel exited during start-up: " + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("reel did not start listening: " + read_file(log_path_));
}

server_process::~server_process() {
  if (running()) stop(SIGKILL, std::chrono::seconds(5));
  std::error_code ec;
  if (!std::getenv("REEL_TEST_KEEP")) std::filesystem::remove_all(dir_, ec);
}

std::string server_process::log() const { return read_file(log_path_); }

bool server_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool server_process::running() {
  if (exit_status_ >= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_status_ = decode_status(status);
    return false;
  }
  return true;
}

int server_process::stop(int signo, std::chrono::milliseconds timeout) {
  if (!running()) return exit_status_;
  ::kill(pid_, signo);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

// REEL_TEST_BINARY runs the tests against another build (e.g. an older one,
// to see a regression test fail there).
std::string reel_binary() {
  const char* other = std::getenv("REEL_TEST_BINARY");
  return other && *other ? other : REEL_BINARY;
}

bool reel_binary_sanitized() {
  static const bool sanitized = [] {
    if (k_sanitized) return true;
    std::string out = run_checked("readelf -d '" + reel_binary() + "' 2>/dev/null");
    if (out.empty()) throw std::runtime_error("readelf could not read " + reel_binary());
    return out.find("libasan.so") != std::string::npos;
  }();
  return sanitized;
}

std::string project_script(const std::string& name) { return std::string(REEL_SOURCE_DIR) + "/scripts/" + name; }

int run_reel(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, std::string& output) {
  std::string dir = make_temp_dir();
  std::string out_path = dir + "/out.txt";
  std::vector<std::string> argv = {reel_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  int pid = spawn(argv, env, out_path);
  int status = 0;
  ::waitpid(pid, &status, 0);
  output = read_file(out_path);
  std::filesystem::remove_all(dir);
  return decode_status(status);
}

unsigned short free_port() { return static_cast<unsigned short>(std::stoi(run_checked(project_script("free-port")))); }

}  // namespace reel::test
