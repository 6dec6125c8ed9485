// Out of file descriptors against the real binary: the server's
// RLIMIT_NOFILE is lowered (prlimit(2), as `prlimit --nofile` does) to a few
// above what it holds, and idle connections take the rest. A stream, an HLS
// file or a poster asked for on a connection accepted before then is 503
// with Retry-After (never 404: the file is there); the accept loop backs off
// with a bounded number of log lines; once the connections close, the same
// requests work and new connections are accepted.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/sanitizers.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

using namespace reel::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::size_t open_descriptors(int pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

// One request on an open keep-alive connection.
http_response get(connection& c, const std::string& path, const std::string& token) {
  c.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
  return c.read_response();
}

std::size_t count_of(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

void expect_unavailable(const http_response& r, const std::string& what) {
  EXPECT_EQ(r.result_int(), 503u) << what << ": " << r.body();
  EXPECT_FALSE(r[boost::beast::http::field::retry_after].empty()) << what;
  EXPECT_NE(r.body().find("\"unavailable\""), std::string::npos) << what << ": " << r.body();
}

}  // namespace

TEST(fd_exhaustion, files_answer_503_with_retry_after_the_accept_loop_backs_off_and_everything_recovers) {
  if (reel::test::reel_binary_sanitized()) GTEST_SKIP() << reel::test::k_no_descriptors_under_sanitizers;
  server_process s({"--headers-timeout-ms", "60000", "--max-connections-per-address", "0"});
  auto a = register_account(s.port(), "fds@example.com", "Fds");
  fs::path scratch = fs::temp_directory_path() / ("reel-fd-clip-" + std::to_string(::getpid()) + ".mp4");
  std::string clip = make_clip(scratch.string());
  fs::remove(scratch);
  auto posted = upload(s.port(), a.token, clip);
  ASSERT_EQ(posted.status(), 201u) << posted.raw.body();
  std::string id(posted.json.at("video").at("id").as_string());
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");

  // A connection accepted while there are descriptors, then the limit.
  connection mine(s.port());
  ASSERT_EQ(get(mine, "/api/videos/" + id, a.token).result_int(), 200u);
  std::this_thread::sleep_for(300ms);  // the pool's and the worker's descriptors settle
  rlimit low{};
  low.rlim_cur = low.rlim_max = static_cast<rlim_t>(open_descriptors(s.pid()) + 6);
  ASSERT_EQ(::prlimit(s.pid(), RLIMIT_NOFILE, &low, nullptr), 0) << "prlimit: " << std::strerror(errno);
  std::vector<std::unique_ptr<connection>> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(std::make_unique<connection>(s.port()));
  ASSERT_TRUE(s.wait_for_log("accept failed; backing off", 5s)) << s.log();
  auto failing_since = std::chrono::steady_clock::now();

  expect_unavailable(get(mine, "/api/stream/" + id + "/video", a.token), "the stream");
  expect_unavailable(get(mine, "/api/stream/" + id + "/hls/master.m3u8", a.token), "the HLS playlist");
  expect_unavailable(get(mine, "/api/stream/" + id + "/thumbnail.jpg", a.token), "the poster");
  std::this_thread::sleep_for(3s);  // the accept loop keeps failing meanwhile
  auto warnings = count_of(s.log(), "accept failed");
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - failing_since).count();
  EXPECT_LE(warnings, 1 + static_cast<std::size_t>(seconds / 5) + 1) << s.log();

  idle.clear();  // the descriptors come back
  ASSERT_TRUE(s.wait_for_log("accepting connections again", 10s)) << s.log();
  auto stream = call(s.port(), "GET", "/api/stream/" + id + "/video", a.token, "", {{"Range", "bytes=0-99"}});
  EXPECT_EQ(stream.status(), 206u) << stream.raw.body();
  EXPECT_EQ(stream.raw.body().size(), 100u);
  EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/hls/master.m3u8", a.token).status(), 200u);
  EXPECT_EQ(get(mine, "/api/stream/" + id + "/thumbnail.jpg", a.token).result_int(), 200u);
}
