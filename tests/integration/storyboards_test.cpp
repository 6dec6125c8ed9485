// docs/api-storyboards.md: the storyboard made in the transcode (sprite
// sheets and their WebVTT), its routes and who may read them, against the
// real binary, real ffmpeg and ffprobe, on the pass's backend.
#include "auth/playback_tokens.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_storyboards_key = "storyboard-signing-key-of-at-least-32-characters";

struct cue {
  double start = 0, end = 0;
  std::string uri;  // as written, relative to the WebVTT's URL
  int x = 0, y = 0, w = 0, h = 0;
};

double seconds_of(const std::string& t) {
  int h = 0, m = 0, s = 0, ms = 0;
  if (std::sscanf(t.c_str(), "%d:%d:%d.%d", &h, &m, &s, &ms) != 4 || t.size() != 12)
    throw std::runtime_error("bad timestamp " + t);
  return h * 3600.0 + m * 60.0 + s + ms / 1000.0;
}

// A strict reading of a storyboard WebVTT (throws on anything unexpected).
std::vector<cue> parse_vtt(const std::string& vtt) {
  std::istringstream in(vtt);
  std::string line;
  if (!std::getline(in, line) || line != "WEBVTT") throw std::runtime_error("no WEBVTT header");
  std::vector<cue> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto arrow = line.find(" --> ");
    if (arrow == std::string::npos) throw std::runtime_error("not a timing line: " + line);
    cue c;
    c.start = seconds_of(line.substr(0, arrow));
    c.end = seconds_of(line.substr(arrow + 5));
    if (!std::getline(in, line)) throw std::runtime_error("a cue without payload");
    auto hash = line.find("#xywh=");
    if (hash == std::string::npos) throw std::runtime_error("no #xywh=: " + line);
    c.uri = line.substr(0, hash);
    if (std::sscanf(line.c_str() + hash, "#xywh=%d,%d,%d,%d", &c.x, &c.y, &c.w, &c.h) != 4)
      throw std::runtime_error("bad #xywh=: " + line);
    out.push_back(c);
  }
  return out;
}

// One organization with an owner, a stranger in another, and two ready
// videos: a 7 s H.264/AAC clip (its MP4 is a copy) and a 3 s MPEG-4 clip
// without audio shot sideways (re-encoded, upright). Reconciliation runs
// every second. Its grace period stays: with none, a sweep between an
// upload's file and its row removes the directory as an orphan (under load,
// the setup then failed at random).
struct storyboards_library {
  server_process server;
  account owner, stranger;
  std::string landscape, portrait;
  fs::path scratch;
  storyboards_library()
      : server({"--reconcile-interval-seconds", "1", "--reconcile-grace-seconds", "60"},
               {{"REEL_SECRET_KEY", k_storyboards_key}}) {
    owner = register_account(port(), "owner@example.com", "Acme");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    scratch = fs::path(server.data_dir()).parent_path() / "clips";
    fs::create_directories(scratch);
    auto wide = make_clip((scratch / "wide.mp4").string(), {.seconds = 7, .width = 320, .height = 240});
    auto tall =
        make_clip((scratch / "tall.mp4").string(),
                  {.seconds = 3, .width = 480, .height = 272, .audio = false, .video_codec = "mpeg4", .rotate = 90});
    landscape = upload(wide);
    portrait = upload(tall);
    for (auto* id : {&landscape, &portrait}) {
      auto v = wait_for_processing(port(), owner.token, *id);
      if (v.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(v));
    }
  }
  unsigned short port() const { return server.port(); }
  std::string upload(const std::string& bytes) {
    auto r = call(port(), "POST", "/api/videos", owner.token, bytes, {{"Content-Type", "video/mp4"}});
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    return text(r.json.at("video"), "id");
  }
  void set_visibility(const std::string& id, const std::string& visibility) {
    auto r = call_json(port(), "PATCH", "/api/videos/" + id, owner.token, {{"visibility", visibility}});
    if (r.status() != 200) throw std::runtime_error(r.raw.body());
  }
  std::string link(const std::string& id) {
    auto r = call(port(), "POST", "/api/videos/" + id + "/playback-url", owner.token);
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    return text(r.json, "token");
  }
  fs::path dir(const std::string& id) const {
    return fs::path(server.data_dir()) / "orgs" / owner.org_id / "videos" / id;
  }
};

class storyboards : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { lib_ = new storyboards_library(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  static inline storyboards_library* lib_ = nullptr;
};

std::string base_of(const std::string& id) { return "/api/stream/" + id; }

// The width×height ffprobe reads from JPEG bytes.
std::pair<int, int> jpeg_size(const fs::path& scratch, const std::string& bytes) {
  auto file = scratch / "sprite.jpg";
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  std::string wh = shell("ffprobe -v error -show_entries stream=width,height -of csv=p=0:s=x '" + file.string() + "'");
  int w = 0, h = 0;
  if (std::sscanf(wh.c_str(), "%dx%d", &w, &h) != 2) throw std::runtime_error("not an image: " + wh);
  return {w, h};
}

}  // namespace

TEST_F(storyboards, every_cue_lies_inside_its_sprite_and_the_cues_cover_the_video) {
  auto& lib = *lib_;
  struct expected {
    std::string id;
    int tile_width, tile_height, tiles;
  };
  // 320×240: 160×120 tiles; upright 272×480: 160×282 (480 × 160 / 272 = 282.4, even).
  for (const auto& e : {expected{lib.landscape, 160, 120, 4}, expected{lib.portrait, 160, 282, 2}}) {
    SCOPED_TRACE(e.id);
    auto v = call(lib.port(), "GET", "/api/videos/" + e.id, lib.owner.token).json.at("video");
    EXPECT_EQ(text(v, "storyboardUrl"), base_of(e.id) + "/storyboard.vtt");
    double duration = v.at("durationSec").to_number<double>();
    auto vtt = call(lib.port(), "GET", text(v, "storyboardUrl"), lib.owner.token);
    ASSERT_EQ(vtt.status(), 200u) << vtt.raw.body();
    EXPECT_EQ(vtt.header("Content-Type"), "text/vtt; charset=utf-8");
    auto cues = parse_vtt(vtt.raw.body());
    ASSERT_EQ(static_cast<int>(cues.size()), e.tiles) << vtt.raw.body();
    std::map<std::string, std::pair<int, int>> sizes;  // sprite URI → its real width×height
    double at = 0;
    for (const auto& c : cues) {
      EXPECT_NEAR(c.start, at, 0.0005);  // contiguous from 0
      EXPECT_GT(c.end, c.start);
      at = c.end;
      EXPECT_EQ(c.w, e.tile_width);
      EXPECT_EQ(c.h, e.tile_height);
      if (!sizes.count(c.uri)) {
        ASSERT_TRUE(c.uri.starts_with("storyboard/sprite-")) << c.uri;
        auto sprite = call(lib.port(), "GET", base_of(e.id) + "/" + c.uri, lib.owner.token);
        ASSERT_EQ(sprite.status(), 200u) << c.uri;
        EXPECT_EQ(sprite.header("Content-Type"), "image/jpeg");
        sizes[c.uri] = jpeg_size(lib.scratch, sprite.raw.body());
      }
      auto [w, h] = sizes[c.uri];
      EXPECT_GE(c.x, 0);
      EXPECT_GE(c.y, 0);
      EXPECT_LE(c.x + c.w, w) << c.uri;
      EXPECT_LE(c.y + c.h, h) << c.uri;
    }
    EXPECT_NEAR(at, duration, 0.0005);  // up to the end
    // One sheet, exactly as wide as its tiles: the tile height is the real scaled height.
    ASSERT_EQ(sizes.size(), 1u);
    EXPECT_EQ(sizes.begin()->second, std::make_pair(e.tile_width * e.tiles, e.tile_height));
    // The sprites are what the transcode wrote, beside the other renditions.
    EXPECT_TRUE(fs::exists(lib.dir(e.id) / "storyboard" / "storyboard.vtt"));
    EXPECT_TRUE(fs::exists(lib.dir(e.id) / "hls" / "master.m3u8"));
  }
  // Each tile shows its own moment (testsrc2 moves every frame): no two are alike.
  auto sprite = call(lib.port(), "GET", base_of(lib.landscape) + "/storyboard/sprite-001.jpg", lib.owner.token);
  jpeg_size(lib.scratch, sprite.raw.body());  // writes it to scratch/sprite.jpg
  std::set<std::string> digests;
  for (int x : {0, 160, 320, 480})
    digests.insert(shell("ffmpeg -v error -i '" + (lib.scratch / "sprite.jpg").string() +
                         "' -vf crop=160:120:" + std::to_string(x) + ":0 -f md5 -"));
  EXPECT_EQ(digests.size(), 4u);
}

TEST_F(storyboards, who_may_read_them_follows_the_stream_routes) {
  auto& lib = *lib_;
  reel::auth::playback_signer signer(k_storyboards_key);
  std::string good = lib.link(lib.landscape);
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  std::string for_other = lib.link(lib.portrait);
  auto gone = register_account(lib.port(), "gone@example.com", "Gone");
  ASSERT_EQ(call(lib.port(), "POST", "/api/auth/logout", gone.token).status(), 204u);
  struct caller {
    std::string name, bearer, token;
    unsigned on_private, on_public;
  };
  std::vector<caller> callers = {
      {"anonymous", "", "", 404, 200},
      {"member", lib.owner.token, "", 200, 200},
      {"member of another organization", lib.stranger.token, "", 404, 200},
      {"signed-out session", gone.token, "", 404, 200},
      {"valid link", "", good, 200, 200},
      {"tampered link", "", tampered, 403, 403},
      {"link for another video", "", for_other, 403, 403},
  };
  std::string base = base_of(lib.landscape);
  for (std::string visibility : {"private", "unlisted", "public"}) {
    lib.set_visibility(lib.landscape, visibility);
    for (const auto& c : callers) {
      for (std::string path : {base + "/storyboard.vtt", base + "/storyboard/sprite-001.jpg"}) {
        for (std::string method : {"GET", "HEAD"}) {
          SCOPED_TRACE(visibility + " × " + c.name + " × " + method + " " + path);
          auto r = call(lib.port(), method, c.token.empty() ? path : path + "?token=" + c.token, c.bearer);
          unsigned want = visibility == "private" ? c.on_private : c.on_public;
          EXPECT_EQ(r.status(), want) << r.raw.body();
          if (method == "GET" && want == 404) {
            EXPECT_EQ(r.error_code(), "not_found");
          }
          if (method == "GET" && want == 403) {
            EXPECT_EQ(r.raw.body(), R"({"error":{"code":"forbidden","message":"The playback link is not valid."}})");
          }
          if (want == 200) {
            EXPECT_EQ(r.header("Access-Control-Allow-Origin"), c.bearer == lib.owner.token ? "" : "*");
          }
        }
      }
    }
  }
  lib.set_visibility(lib.landscape, "private");
}

TEST_F(storyboards, a_link_carries_itself_into_every_sprite_uri) {
  auto& lib = *lib_;
  std::string t = lib.link(lib.landscape);
  auto made = call(lib.port(), "POST", "/api/videos/" + lib.landscape + "/playback-url", lib.owner.token);
  ASSERT_EQ(made.status(), 201u);
  std::string made_token = text(made.json, "token");
  EXPECT_EQ(text(made.json, "storyboardUrl"), base_of(lib.landscape) + "/storyboard.vtt?token=" + made_token);
  auto vtt = call(lib.port(), "GET", base_of(lib.landscape) + "/storyboard.vtt?token=" + t);
  ASSERT_EQ(vtt.status(), 200u);
  EXPECT_EQ(vtt.header("Cache-Control"), "private, no-store");
  auto cues = parse_vtt(vtt.raw.body());
  ASSERT_FALSE(cues.empty());
  for (const auto& c : cues) {
    EXPECT_EQ(c.uri, "storyboard/sprite-001.jpg?token=" + t);
    // Resolved against the WebVTT's URL, it is read with no session.
    EXPECT_EQ(call(lib.port(), "GET", base_of(lib.landscape) + "/" + c.uri).status(), 200u);
  }
  // A member's WebVTT is the file as it is.
  auto own = call(lib.port(), "GET", base_of(lib.landscape) + "/storyboard.vtt", lib.owner.token);
  EXPECT_EQ(own.raw.body().find("token="), std::string::npos);
  EXPECT_EQ(parse_vtt(own.raw.body()).size(), cues.size());
}

TEST_F(storyboards, only_sprite_names_are_served_whatever_the_path) {
  auto& lib = *lib_;
  std::string base = base_of(lib.landscape) + "/storyboard/";
  for (std::string bad : {"sprite-000.jpg", "sprite-002.jpg", "sprite-0001.jpg", "sprite-001.JPG", "storyboard.vtt",
                          "..%2Fvideo.mp4", "%2e%2e%2fhls%2fmaster.m3u8", "sprite-001.jpg%00", "sprite-001.jpg%2F..",
                          "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "a/b", "sprite-001.jpg/x", ""}) {
    SCOPED_TRACE(bad);
    auto member = call(lib.port(), "GET", base + bad, lib.owner.token);
    EXPECT_TRUE(member.status() == 404u || member.status() == 400u) << member.status();
    EXPECT_NE(member.header("Content-Type"), "image/jpeg");
    auto anonymous = call(lib.port(), "GET", base + bad);
    EXPECT_TRUE(anonymous.status() == 404u || anonymous.status() == 400u) << anonymous.status();
  }
  // An id that is not one, and the other organization's member, find nothing.
  EXPECT_EQ(call(lib.port(), "GET", "/api/stream/AAAAAAAAAAAAAAAA/storyboard.vtt", lib.owner.token).status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", "/api/stream/..%2F..%2Fx/storyboard.vtt", lib.owner.token).status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", base + "sprite-001.jpg", lib.stranger.token).status(), 404u);
}

TEST_F(storyboards, reconciliation_remakes_a_broken_one_and_leaves_a_video_without_one_alone) {
  auto& lib = *lib_;
  auto dir = lib.dir(lib.portrait) / "storyboard";
  std::string vtt = base_of(lib.portrait) + "/storyboard.vtt";
  // A sheet lost: the outputs are missing, the video is processed again.
  fs::remove(dir / "sprite-001.jpg");
  ASSERT_TRUE(lib.server.wait_for_log("video processed again: its outputs are missing", 15s)) << lib.server.log();
  for (int i = 0; i < 300 && !fs::exists(dir / "sprite-001.jpg"); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(wait_for_processing(lib.port(), lib.owner.token, lib.portrait).at("status"), "ready");
  EXPECT_TRUE(fs::exists(dir / "sprite-001.jpg"));
  EXPECT_EQ(call(lib.port(), "GET", vtt, lib.owner.token).status(), 200u);
  // No storyboard at all, as a video processed before storyboards: left alone, its WebVTT is 404.
  fs::remove_all(dir);
  std::this_thread::sleep_for(2500ms);  // two sweeps
  auto v = call(lib.port(), "GET", "/api/videos/" + lib.portrait, lib.owner.token).json.at("video");
  EXPECT_EQ(v.at("status"), "ready");
  EXPECT_FALSE(fs::exists(dir));
  auto missing = call(lib.port(), "GET", vtt, lib.owner.token);
  EXPECT_EQ(missing.status(), 404u);
  EXPECT_EQ(missing.raw.body(), R"({"error":{"code":"not_found","message":"This video has no storyboard."}})");
  auto linked = call(lib.port(), "GET", vtt + "?token=" + lib.link(lib.portrait));
  EXPECT_EQ(linked.status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", base_of(lib.portrait) + "/storyboard/sprite-001.jpg", lib.owner.token).status(),
            404u);
  // Deleting the video removes it with everything else.
  EXPECT_EQ(call(lib.port(), "DELETE", "/api/videos/" + lib.landscape, lib.owner.token).status(), 204u);
  EXPECT_FALSE(fs::exists(lib.dir(lib.landscape)));
}
