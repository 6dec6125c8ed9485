// On PostgreSQL, an upload to one process wakes the worker of another at
// once (LISTEN/NOTIFY), not at its next poll: `reel serve --workers 0` and
// `reel worker` share a database and a data directory, the worker polls
// every 30 s, and its job must start well within a second of the upload.
#include "support/api.hpp"
#include "support/process.hpp"

#include "core/clock.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <libpq-fe.h>

#include "support/postgres.hpp"

using namespace reel::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

extern char** environ;

namespace {

// `reel worker` with `env`, its output in `log_path`; killed if still running at the end.
class worker_process {
 public:
  worker_process(const std::string& data_dir, const std::map<std::string, std::string>& env, std::string log_path)
      : log_path_(std::move(log_path)) {
    std::vector<std::string> args = {reel_binary(), "worker", "--data-dir", data_dir};
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e)
      if (!std::string_view(*e).starts_with("REEL_")) envs.emplace_back(*e);
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~worker_process() {
    if (pid_ > 0 && stop(SIGKILL) < 0) ::waitpid(pid_, nullptr, 0);
  }
  worker_process(const worker_process&) = delete;
  worker_process& operator=(const worker_process&) = delete;

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The first line of the log that contains every one of `texts`, once it appears.
  std::optional<std::string> wait_for_line(const std::vector<std::string>& texts,
                                           std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      std::istringstream lines(log());
      for (std::string line; std::getline(lines, line);) {
        bool all = true;
        for (const auto& t : texts) all = all && line.find(t) != std::string::npos;
        if (all) return line;
      }
      std::this_thread::sleep_for(5ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }
  // Sends `signo`; the exit status (code, or 128+signal), -1 if it runs on after 15 s.
  int stop(int signo) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, signo);
    for (int i = 0; i < 1500; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = -1;
};

// A one-second clip, small and quick to process.
std::string make_small_clip(const fs::path& path) {
  std::string cmd =
      "ffmpeg -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 -c:v libx264 "
      "-preset ultrafast -pix_fmt yuv420p '" +
      path.string() + "'";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("ffmpeg could not make " + path.string());
  return read_file(path);
}

std::string video_status(unsigned short port, const std::string& token, const std::string& id) {
  return std::string(call(port, "GET", "/api/videos/" + id, token).json.at("video").at("status").as_string());
}

}  // namespace

TEST(postgres_wakeup, an_upload_to_the_server_starts_in_another_process_worker_well_within_a_second) {
  REEL_REQUIRE_POSTGRES();
  std::map<std::string, std::string> env = {{"REEL_DATABASE_URL", postgres_server::shared().create_database()},
                                            {"REEL_JOB_POLL_MS", "30000"}};
  server_process server({"--workers", "0"}, env);
  worker_process worker(server.data_dir(), env, server.data_dir() + "/../worker.log");
  ASSERT_TRUE(worker.wait_for_line({"listening for notifications", "channel=reel_jobs"}, 20s)) << worker.log();
  std::this_thread::sleep_for(1s);  // its start-up claims are long over: only a notification can wake it now

  auto a = register_account(server.port(), "wake@example.com", "Wake");
  fs::path clip_path = fs::path(server.data_dir()) / ".." / "clip.mp4";
  std::string clip = make_small_clip(clip_path);
  for (int round = 1; round <= 3; ++round) {
    auto sent = std::chrono::system_clock::now();
    auto r = call(server.port(), "POST", "/api/videos", a.token, clip, {{"Content-Type", "video/mp4"}});
    ASSERT_EQ(r.status(), 201u) << r.raw.body();
    auto answered = std::chrono::system_clock::now();
    std::string id(r.json.at("video").at("id").as_string());
    auto line = worker.wait_for_line({"job started", "video=" + id}, 10s);
    auto seen = std::chrono::system_clock::now();
    ASSERT_TRUE(line) << "the worker never started the job: " << worker.log();
    auto started = reel::from_iso8601(line->substr(0, line->find(' ')));
    ASSERT_TRUE(started) << *line;
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    double latency = ms(*started - sent);
    std::printf(
        "[ wake-up  ] round %d: the job started %.0f ms after the upload was sent (%.0f ms after its answer; "
        "seen in the log after %.0f ms); poll interval 30 s\n",
        round, latency, ms(*started - answered), ms(seen - sent));
    EXPECT_LT(latency, 1000);
    for (int i = 0; i < 600 && video_status(server.port(), a.token, id) != "ready"; ++i)
      std::this_thread::sleep_for(50ms);
    EXPECT_EQ(video_status(server.port(), a.token, id), "ready") << worker.log();
  }
  EXPECT_EQ(worker.stop(SIGTERM), 0) << worker.log();
  EXPECT_EQ(server.stop(SIGTERM), 0);
}
