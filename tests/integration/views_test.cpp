// View counting end to end against the real binary: which requests are
// plays, who a viewer is, the counts in the video JSON and the list, and
// GET /api/videos/:id/stats with its tenant rules. Views are written in the
// background, so the tests poll for the count they expect.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include "core/clock.hpp"
#include "db/database.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::int64_t view_count_of(const api_reply& r) { return r.json.at("video").at("viewCount").to_number<std::int64_t>(); }

// Polls GET /api/videos/:id until its viewCount is `expected` (or 5 s pass);
// then, so that a write still under way would show, a little longer. Returns the last count.
std::int64_t settled_view_count(unsigned short port, const account& a, const std::string& id, std::int64_t expected) {
  std::int64_t n = -1;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    n = view_count_of(call(port, "GET", "/api/videos/" + id, a.token));
    if (n == expected) break;
    std::this_thread::sleep_for(50ms);
  }
  std::this_thread::sleep_for(300ms);
  return view_count_of(call(port, "GET", "/api/videos/" + id, a.token));
}

// The first rendition's directory in the master playlist ("240p").
std::string first_rendition(const std::string& master) {
  std::istringstream in(master);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') return line.substr(0, line.find('/'));
  return "";
}

std::vector<std::string> viewers_in(const std::string& data_dir) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  std::vector<std::string> out;
  db->transact(false, [&](reel::db::transaction& s) {
    for (const auto& r : s.query("SELECT viewer FROM video_viewers ORDER BY viewer")) out.push_back(r.text(0));
  });
  return out;
}

// A server that trusts itself as a proxy (X-Forwarded-For names the
// client), an owner with a member, and someone from elsewhere.
struct audience {
  server_process server{{},
                        {{"REEL_TRUSTED_PROXIES", "127.0.0.1/32"}, {"REEL_METRICS_TOKEN", "metrics-token-for-tests"}}};
  account owner, member, stranger;
  audience() {
    owner = register_account(port(), "owner@example.com", "Acme");
    member = register_account(port(), "member@example.com", "M");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    invite_and_accept(port(), owner, owner.org_id, member, "viewer");
  }
  unsigned short port() const { return server.port(); }
  // GET of a stream path as an anonymous client with this User-Agent (and address, when given).
  api_reply play(const std::string& path, const std::string& agent, std::map<std::string, std::string> headers = {},
                 const std::string& token = "") {
    headers["User-Agent"] = agent;
    return call(port(), "GET", path, token, "", headers);
  }
};

}  // namespace

TEST(views, plays_count_once_per_viewer_per_window_and_only_from_the_start) {
  audience a;
  fs::path dir = fs::path(a.server.data_dir()).parent_path();
  std::string clip = make_clip((dir / "in.mp4").string());
  auto up = upload(a.port(), a.owner.token, clip, {{"title", "Public"}, {"visibility", "public"}});
  ASSERT_EQ(up.status(), 201) << up.raw.body();
  std::string id(up.json.at("video").at("id").as_string());
  ASSERT_EQ(wait_for_processing(a.port(), a.owner.token, id).at("status"), "ready");
  EXPECT_EQ(view_count_of(call(a.port(), "GET", "/api/videos/" + id, a.owner.token)), 0);
  std::string base = "/api/stream/" + id;
  auto master = a.play(base + "/hls/master.m3u8", "Agent A");
  ASSERT_EQ(master.status(), 200);
  std::string rendition = first_rendition(master.raw.body());
  ASSERT_FALSE(rendition.empty()) << master.raw.body();

  // Not plays: a range not from 0, HEAD, playlists, a later segment.
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"Range", "bytes=100-199"}}).status(), 206);
  EXPECT_EQ(call(a.port(), "HEAD", base + "/video", "", "", {{"User-Agent", "Agent A"}}).status(), 200);
  EXPECT_EQ(a.play(base + "/hls/" + rendition + "/index.m3u8", "Agent A").status(), 200);
  auto later = a.play(base + "/hls/" + rendition + "/seg_001.ts", "Agent A");
  EXPECT_TRUE(later.status() == 200 || later.status() == 404) << later.status();
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 0), 0);

  // The MP4 from byte 0 is a play; the same client again (whole file, from
  // 0, the first HLS segment) is the same viewer within 30 minutes.
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"Range", "bytes=0-99"}}).status(), 206);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 1), 1);
  EXPECT_EQ(a.play(base + "/video", "Agent A").status(), 200);
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"Range", "bytes=0-"}}).status(), 206);
  EXPECT_EQ(a.play(base + "/hls/" + rendition + "/seg_000.ts", "Agent A").status(), 200);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 1), 1);

  // Another User-Agent is another viewer; the first HLS segment is a play.
  EXPECT_EQ(a.play(base + "/hls/" + rendition + "/seg_000.ts", "Agent B").status(), 200);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 2), 2);
  // Another address (through the trusted proxy) is another viewer; the same one again is not.
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"X-Forwarded-For", "203.0.113.7"}}).status(), 200);
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"X-Forwarded-For", "203.0.113.7"}}).status(), 200);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 3), 3);

  // A signed-in member is a viewer of their own, whatever their client.
  EXPECT_EQ(a.play(base + "/video", "Agent A", {{"Range", "bytes=0-99"}}, a.member.token).status(), 206);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 4), 4);
  EXPECT_EQ(a.play(base + "/hls/" + rendition + "/seg_000.ts", "Agent C", {}, a.member.token).status(), 200);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 4), 4);

  // The count in the video, the list and the stats.
  auto one = call(a.port(), "GET", "/api/videos/" + id, a.member.token, "", {{"X-Organization-Id", a.owner.org_id}});
  EXPECT_EQ(view_count_of(one), 4);
  std::int64_t listed = -1;
  for (int i = 0; i < 40 && listed != 4; ++i) {  // the list cache may hold the last answer for a second
    auto list = call(a.port(), "GET", "/api/videos", a.owner.token);
    ASSERT_EQ(list.status(), 200);
    listed = list.json.at("videos").at(0).at("viewCount").to_number<std::int64_t>();
    if (listed != 4) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(listed, 4);
  auto stats = call(a.port(), "GET", "/api/videos/" + id + "/stats", a.owner.token);
  ASSERT_EQ(stats.status(), 200) << stats.raw.body();
  EXPECT_EQ(stats.header("Cache-Control"), "no-store");
  EXPECT_EQ(stats.json.at("videoId").as_string(), id);
  EXPECT_EQ(stats.json.at("viewCount").to_number<std::int64_t>(), 4);
  const auto& days = stats.json.at("days").as_array();
  ASSERT_EQ(days.size(), 30u);
  std::string today = reel::to_iso8601(std::chrono::system_clock::now()).substr(0, 10);
  EXPECT_EQ(days.back().at("date").as_string(), today);  // (a run across midnight UTC may see yesterday)
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const auto& d = days[i].as_object();
    EXPECT_EQ(d.size(), 2u);
    EXPECT_EQ(d.at("date").as_string().size(), 10u);
    if (i > 0) {
      EXPECT_LT(days[i - 1].at("date").as_string(), d.at("date").as_string());
    }
    sum += d.at("views").to_number<std::int64_t>();
  }
  EXPECT_EQ(sum, 4);
  EXPECT_EQ(days.back().at("views").to_number<std::int64_t>(), 4);

  auto metrics = call(a.port(), "GET", "/metrics", "metrics-token-for-tests");
  ASSERT_EQ(metrics.status(), 200);
  EXPECT_NE(metrics.raw.body().find("\nreel_views_counted_total 4\n"), std::string::npos) << metrics.raw.body();
  EXPECT_NE(metrics.raw.body().find("\nreel_views_dropped_total 0\n"), std::string::npos);

  // What is stored names no address and no User-Agent.
  auto viewers = viewers_in(a.server.data_dir());
  ASSERT_EQ(viewers.size(), 4u);
  EXPECT_NE(std::find(viewers.begin(), viewers.end(), "u:" + a.member.user_id), viewers.end());
  for (const auto& v : viewers) {
    EXPECT_TRUE(v.starts_with("a:") || v.starts_with("u:")) << v;
    for (const char* secret : {"127.0.0.1", "203.0.113.7", "Agent"}) EXPECT_EQ(v.find(secret), std::string::npos) << v;
  }
}

TEST(views, a_private_video_played_by_nobody_counts_nothing) {
  audience a;
  fs::path dir = fs::path(a.server.data_dir()).parent_path();
  std::string clip = make_clip((dir / "in.mp4").string());
  auto up = upload(a.port(), a.owner.token, clip, {{"title", "Private"}});
  ASSERT_EQ(up.status(), 201) << up.raw.body();
  std::string id(up.json.at("video").at("id").as_string());
  ASSERT_EQ(wait_for_processing(a.port(), a.owner.token, id).at("status"), "ready");
  EXPECT_EQ(a.play("/api/stream/" + id + "/video", "Agent A").status(), 404);
  EXPECT_EQ(a.play("/api/stream/" + id + "/video", "Agent A", {}, a.stranger.token).status(), 404);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 0), 0);
  // A member's play counts.
  EXPECT_EQ(a.play("/api/stream/" + id + "/video", "Agent A", {}, a.owner.token).status(), 200);
  EXPECT_EQ(settled_view_count(a.port(), a.owner, id, 1), 1);
}

TEST(views, stats_follow_the_tenant_rules) {
  server_process s({"--workers", "0"});  // the video stays queued: stats need no processing
  auto owner = register_account(s.port(), "owner@example.com", "Acme");
  auto viewer = register_account(s.port(), "viewer@example.com", "V");
  auto stranger = register_account(s.port(), "stranger@example.com", "Elsewhere");
  invite_and_accept(s.port(), owner, owner.org_id, viewer, "viewer");
  auto up = upload(s.port(), owner.token, random_bytes(10'000, 1));
  ASSERT_EQ(up.status(), 201) << up.raw.body();
  std::string path = "/api/videos/" + std::string(up.json.at("video").at("id").as_string()) + "/stats";
  auto ok = call(s.port(), "GET", path, owner.token);
  ASSERT_EQ(ok.status(), 200) << ok.raw.body();
  EXPECT_EQ(ok.json.at("viewCount").to_number<std::int64_t>(), 0);
  ASSERT_EQ(ok.json.at("days").as_array().size(), 30u);
  for (const auto& d : ok.json.at("days").as_array()) EXPECT_EQ(d.at("views").to_number<std::int64_t>(), 0);
  // A viewer of the organization reads them.
  EXPECT_EQ(call(s.port(), "GET", path, viewer.token, "", {{"X-Organization-Id", owner.org_id}}).status(), 200);
  // Another organization's member: as if it did not exist.
  auto other = call(s.port(), "GET", path, stranger.token);
  EXPECT_EQ(other.status(), 404);
  EXPECT_EQ(other.error_code(), "not_found");
  EXPECT_EQ(call(s.port(), "GET", path, viewer.token).status(), 404);  // acting in their own organization
  // Naming an organization one is not a member of.
  EXPECT_EQ(call(s.port(), "GET", path, stranger.token, "", {{"X-Organization-Id", owner.org_id}}).status(), 403);
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/nosuchvideo/stats", owner.token).status(), 404);
  // Nobody signed in, a bad token, a session that ended.
  auto anonymous = call(s.port(), "GET", path);
  EXPECT_EQ(anonymous.status(), 401);
  EXPECT_EQ(anonymous.error_code(), "unauthorized");
  EXPECT_EQ(call(s.port(), "GET", path, "not-a-token").status(), 401);
  ASSERT_EQ(call(s.port(), "POST", "/api/auth/logout", viewer.token).status(), 204);
  EXPECT_EQ(call(s.port(), "GET", path, viewer.token, "", {{"X-Organization-Id", owner.org_id}}).status(), 401);
  // Only GET.
  EXPECT_EQ(call(s.port(), "POST", path, owner.token).status(), 405);
}
