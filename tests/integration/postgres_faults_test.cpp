// reel on a PostgreSQL server that goes away and comes back, and on URLs
// that cannot work: the process answers 503 in API.md's shape meanwhile,
// /readyz says why, nothing is half-written, and it recovers by itself.
#include "support/api.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace reel::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Polls `path` until it answers `status` (or 10 s pass); returns the last answer.
api_reply wait_for_status(unsigned short port, const std::string& path, const std::string& token, unsigned status) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto r = call(port, "GET", path, token);
    if (r.status() == status || std::chrono::steady_clock::now() > deadline) return r;
    std::this_thread::sleep_for(100ms);
  }
}

std::size_t video_dirs(const std::string& data_dir, const std::string& org_id) {
  fs::path dir = fs::path(data_dir) / "orgs" / org_id / "videos";
  if (!fs::exists(dir)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST(postgres_faults, a_server_that_goes_away_gives_503_and_readyz_says_why_then_reel_recovers_without_a_restart) {
  REEL_REQUIRE_POSTGRES();
  auto pg = postgres_server::start();  // a server of its own: this test stops it
  std::string url = pg->create_database();
  server_process s({"--list-cache-ms", "0", "--workers", "0"}, {{"REEL_DATABASE_URL", url}});
  auto a = register_account(s.port(), "pg@example.com", "PG");
  ASSERT_EQ(upload(s.port(), a.token, "first video bytes").status(), 201);
  ASSERT_EQ(call(s.port(), "GET", "/api/videos", a.token).status(), 200);

  pg->stop_for_now();
  auto down = wait_for_status(s.port(), "/api/videos", a.token, 503);
  EXPECT_EQ(down.status(), 503) << down.raw.body();
  EXPECT_EQ(down.json.at("error").at("code"), "unavailable");
  EXPECT_EQ(down.raw.body().find("PostgreSQL"), std::string::npos) << "driver details stay in the log";
  EXPECT_EQ(down.header("Retry-After"), "5");
  auto ready = call(s.port(), "GET", "/readyz", "");
  EXPECT_EQ(ready.status(), 503);
  EXPECT_EQ(ready.json.at("checks").at("database"), "the database is not usable");
  // An upload while the database is away is refused and leaves nothing behind.
  auto refused = upload(s.port(), a.token, "second video bytes");
  EXPECT_EQ(refused.status(), 503) << refused.raw.body();
  EXPECT_EQ(video_dirs(s.data_dir(), a.org_id), 1u);

  pg->start_again();
  auto back = wait_for_status(s.port(), "/api/videos", a.token, 200);
  ASSERT_EQ(back.status(), 200) << back.raw.body();
  EXPECT_EQ(back.json.at("videos").as_array().size(), 1u);  // the refused upload left no row
  EXPECT_EQ(call(s.port(), "GET", "/readyz", "").status(), 200);
  EXPECT_EQ(upload(s.port(), a.token, "third video bytes").status(), 201);
  EXPECT_TRUE(s.running());
}

TEST(postgres_faults, start_up_with_a_database_that_cannot_be_used_stops_with_one_sentence_and_no_password) {
  REEL_REQUIRE_POSTGRES();
  auto& pg = postgres_server::shared();
  std::string out;
  // Nothing listens there.
  EXPECT_EQ(run_reel({"serve", "--data-dir", (fs::temp_directory_path() / "reel-pg-bad-1").string()},
                     {{"REEL_DATABASE_URL", "postgres://reel:hunter2secret@127.0.0.1:1/reel"}}, out),
            1);
  EXPECT_NE(out.find("127.0.0.1:1"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2secret"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  // A database that does not exist on a server that does.
  std::string missing = pg.url("no_such_database");
  EXPECT_EQ(run_reel({"migrate", "--data-dir", (fs::temp_directory_path() / "reel-pg-bad-2").string()},
                     {{"REEL_DATABASE_URL", missing}}, out),
            1);
  EXPECT_NE(out.find("no_such_database"), std::string::npos) << out;
  fs::remove_all(fs::temp_directory_path() / "reel-pg-bad-1");
  fs::remove_all(fs::temp_directory_path() / "reel-pg-bad-2");
}
