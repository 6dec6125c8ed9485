// Attacks from the security review that concern the server as a whole:
// who may read /metrics, what /readyz tells a stranger, the permissions of
// the data directory, and the bound of the on-demand thumbnail cache.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

using namespace reel::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 07777;
}

std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file()) ++n;
  return n;
}

std::uint64_t bytes_under(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file()) n += it->file_size();
  return n;
}

}  // namespace

TEST(security, metrics_are_not_public) {
  {
    // No token and no separate listener: not served at all.
    server_process s;
    EXPECT_EQ(call(s.port(), "GET", "/metrics").status(), 404);
    EXPECT_EQ(call(s.port(), "GET", "/healthz").status(), 200);
  }
  const std::string token = "a-long-metrics-token-0123456789";
  server_process s({"--metrics-token", token});
  auto anonymous = call(s.port(), "GET", "/metrics");
  EXPECT_EQ(anonymous.status(), 401);
  EXPECT_EQ(anonymous.error_code(), "unauthorized");
  EXPECT_EQ(call(s.port(), "GET", "/metrics", token + "x").status(), 401);
  EXPECT_EQ(call(s.port(), "GET", "/metrics", token.substr(1)).status(), 401);
  // A user's own session token is not the metrics token.
  auto a = register_account(s.port(), "m@example.com", "M");
  EXPECT_EQ(call(s.port(), "GET", "/metrics", a.token).status(), 401);
  auto ok = call(s.port(), "GET", "/metrics", token);
  EXPECT_EQ(ok.status(), 200);
  EXPECT_NE(ok.raw.body().find("reel_http_requests_total"), std::string::npos);
  // Too short a token is refused at start-up, and never echoed.
  std::string out;
  EXPECT_NE(run_reel({"serve", "--metrics-token", "short-secret"}, {}, out), 0);
  EXPECT_NE(out.find("16 to 256 characters"), std::string::npos) << out;
  EXPECT_EQ(out.find("short-secret"), std::string::npos) << out;
}

TEST(security, metrics_on_a_separate_listener_need_no_token_there) {
  auto port = free_port();
  server_process s({"--metrics-address", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(call(s.port(), "GET", "/metrics").status(), 404);  // not on the public port
  auto m = call(port, "GET", "/metrics");
  EXPECT_EQ(m.status(), 200);
  EXPECT_NE(m.raw.body().find("reel_open_connections"), std::string::npos);
  EXPECT_EQ(call(port, "GET", "/api/videos").status(), 404);  // that listener serves nothing else
  EXPECT_EQ(s.stop(SIGTERM), 0);
}

TEST(security, readyz_says_what_is_wrong_in_words_without_server_paths) {
  server_process s;
  std::filesystem::rename(s.data_dir(), s.data_dir() + ".moved");
  std::ofstream(s.data_dir()) << "not a directory";
  auto bad = call(s.port(), "GET", "/readyz");
  EXPECT_EQ(bad.status(), 503);
  EXPECT_EQ(bad.json.at("checks").at("storage"), "the data directory is not writable");
  EXPECT_EQ(bad.raw.body().find(s.data_dir()), std::string::npos) << bad.raw.body();
  EXPECT_EQ(bad.raw.body().find("/tmp"), std::string::npos) << bad.raw.body();
  EXPECT_TRUE(s.wait_for_log("readiness: the data directory is not writable"));  // the detail is in the log
  std::filesystem::remove(s.data_dir());
  std::filesystem::rename(s.data_dir() + ".moved", s.data_dir());
}

TEST(security, data_directory_and_database_are_private_to_the_server_user) {
  if (testing_postgres()) GTEST_SKIP() << "the modes of the SQLite file; the PostgreSQL pass has no file to check";
  fs::path dir = fs::temp_directory_path() / ("reel-perm-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string out;
  // A new data directory.
  ASSERT_EQ(run_reel({"migrate", "--data-dir", (dir / "new").string()}, {}, out), 0) << out;
  EXPECT_EQ(mode_of(dir / "new"), 0700u);
  EXPECT_EQ(mode_of(dir / "new" / "reel.db"), 0600u);
  // One an older reel made world-readable is tightened.
  fs::create_directories(dir / "old");
  fs::permissions(dir / "old", fs::perms(0755));
  ASSERT_EQ(run_reel({"migrate", "--data-dir", (dir / "old").string()}, {}, out), 0) << out;
  fs::permissions(dir / "old" / "reel.db", fs::perms(0644));
  fs::permissions(dir / "old", fs::perms(0755));
  ASSERT_EQ(run_reel({"migrate", "--data-dir", (dir / "old").string()}, {}, out), 0) << out;
  EXPECT_EQ(mode_of(dir / "old"), 0700u);
  EXPECT_EQ(mode_of(dir / "old" / "reel.db"), 0600u);
  // Everything the server writes while running, uploads included.
  {
    server_process s({"--workers", "0"});
    auto a = register_account(s.port(), "p@example.com", "P");
    ASSERT_EQ(upload(s.port(), a.token, "not really a video").status(), 201);
    for (auto it = fs::recursive_directory_iterator(s.data_dir()); it != fs::recursive_directory_iterator(); ++it) {
      unsigned m = mode_of(it->path());
      EXPECT_EQ(m & 077, 0u) << it->path() << " has mode " << std::oct << m;
    }
    EXPECT_EQ(mode_of(s.data_dir()), 0700u);
  }
  fs::remove_all(dir);
}

TEST(security, thumbnail_cache_holds_few_files_per_video_and_stays_under_its_size) {
  server_process s({"--thumbnail-cache-bytes", "200000", "--thumbnail-concurrency", "2"});
  auto a = register_account(s.port(), "thumbs@example.com", "T");
  fs::path scratch = fs::temp_directory_path() / ("reel-thumbs-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  auto r = call(s.port(), "POST", "/api/videos", a.token, make_clip((scratch / "t.mp4").string(), {.seconds = 4}),
                {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(r.status(), 201);
  std::string id(r.json.at("video").at("id").as_string());
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  fs::path thumbs = fs::path(s.data_dir()) / "orgs" / a.org_id / "videos" / id / "thumbs";
  // One request per millisecond and pixel width, as the attack did: they
  // land on a handful of frames.
  std::set<std::string> times;
  for (int i = 0; i < 60; ++i) {
    std::string t = std::to_string(1.0 + i * 0.001);
    auto f = call(s.port(), "GET",
                  "/api/stream/" + id + "/thumbnail.jpg?time=" + t + "&width=" + std::to_string(150 + i), a.token);
    ASSERT_EQ(f.status(), 200) << f.raw.body();
    times.insert(f.header("X-Frame-Time"));
  }
  EXPECT_EQ(times, (std::set<std::string>{"1.000", "1.100"}));  // 1.000..1.059 → two tenths
  EXPECT_LE(files_under(thumbs), 4u);                           // {1.0, 1.1} × {160, 240}
  // Many distinct frames: the cache stays within its size, oldest out first.
  for (int i = 0; i < 40; ++i) {
    auto f = call(s.port(), "GET",
                  "/api/stream/" + id + "/thumbnail.jpg?time=" + std::to_string(i * 0.1) + "&width=1920", a.token);
    ASSERT_EQ(f.status(), 200);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(bytes_under(thumbs), 200000u + 150000u);  // the limit, plus at most the newest frame
  EXPECT_GT(files_under(thumbs), 1u);
  s.stop(SIGTERM);
  fs::remove_all(scratch);
}

TEST(security, one_address_cannot_hold_every_connection) {
  server_process s({"--max-connections-per-address", "8"});
  std::vector<std::unique_ptr<connection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<connection>(s.port()));
    held.back()->write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(held.back()->read_response().result_int(), 200);  // kept alive, still open
  }
  // The ninth is refused at once in the error shape, and closed.
  connection extra(s.port());
  auto r = extra.read_response();
  EXPECT_EQ(r.result_int(), 429);
  EXPECT_EQ(r["Retry-After"], "5");
  EXPECT_NE(r.body().find("\"too_many_requests\""), std::string::npos);
  EXPECT_TRUE(extra.closed_by_server());
  // Closing one frees a place.
  held.pop_back();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(request(s.port(), "GET", "/healthz").result_int(), 200);
  // A trusted proxy carries many clients: it is not limited here.
  server_process proxied({"--max-connections-per-address", "2", "--trusted-proxies", "127.0.0.1"});
  std::vector<std::unique_ptr<connection>> many;
  for (int i = 0; i < 5; ++i) {
    many.push_back(std::make_unique<connection>(proxied.port()));
    many.back()->write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(many.back()->read_response().result_int(), 200);
  }
}
