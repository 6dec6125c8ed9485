// docs/API.md "Sharing": who may play a video (visibility × caller × resource,
// signed playback links), the routes that set it, and their bad input,
// against the real binary, on the pass's backend.
#include "auth/playback_tokens.hpp"
#include "core/clock.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_sharing_key = "first-signing-key-of-at-least-32-characters";
constexpr const char* k_next_key = "second-signing-key-of-at-least-32-characters";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One organization with an owner and a viewer, a stranger in another, and
// two ready videos.
struct shared_library {
  server_process server;
  account owner, viewer, stranger;
  std::string video, other_video, rendition;
  explicit shared_library(std::vector<std::string> args = {},
                          std::map<std::string, std::string> env = {{"REEL_SECRET_KEY", k_sharing_key}})
      : server(std::move(args), std::move(env)) {
    owner = register_account(port(), "owner@example.com", "Acme");
    viewer = register_account(port(), "viewer@example.com", "V");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    invite_and_accept(port(), owner, owner.org_id, viewer, "viewer");
    auto clip = make_clip((fs::path(server.data_dir()).parent_path() / "clip.mp4").string());
    for (auto* id : {&video, &other_video}) {
      auto r = call(port(), "POST", "/api/videos", owner.token, clip, {{"Content-Type", "video/mp4"}});
      if (r.status() != 201) throw std::runtime_error(r.raw.body());
      *id = text(r.json.at("video"), "id");
    }
    for (auto* id : {&video, &other_video}) {
      auto v = wait_for_processing(port(), owner.token, *id);
      if (v.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(v));
    }
    auto v = call(port(), "GET", "/api/videos/" + video, owner.token);
    rendition = text(v.json.at("video").at("renditions").as_array().at(0), "name");
  }
  unsigned short port() const { return server.port(); }
  void set_visibility(const std::string& visibility) {
    auto r = call_json(port(), "PATCH", "/api/videos/" + video, owner.token, {{"visibility", visibility}});
    if (r.status() != 200) throw std::runtime_error(r.raw.body());
  }
  std::string link(const std::string& id, std::int64_t expires_in = 3600) {
    // The viewer acts in the owner's organization (their own is their oldest).
    auto r = call_json(port(), "POST", "/api/videos/" + id + "/playback-url", viewer.token, {{"expiresIn", expires_in}},
                       {{"X-Organization-Id", owner.org_id}});
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    return text(r.json, "token");
  }
};

// The resources of one video, each with the status a successful GET answers.
struct resource {
  std::string name, path;
  std::map<std::string, std::string> headers;
  unsigned ok;
};

std::vector<resource> resources_of(const shared_library& lib) {
  std::string base = "/api/stream/" + lib.video;
  return {{"mp4 range", base + "/video", {{"Range", "bytes=0-99"}}, 206},
          {"master", base + "/hls/master.m3u8", {}, 200},
          {"variant", base + "/hls/" + lib.rendition + "/index.m3u8", {}, 200},
          {"segment", base + "/hls/" + lib.rendition + "/seg_000.ts", {}, 200},
          {"thumbnail", base + "/thumbnail.jpg", {}, 200}};
}

std::string with_token(const std::string& path, const std::string& token) {
  return token.empty() ? path : path + "?token=" + token;
}

class sharing : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { lib_ = new shared_library(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  static inline shared_library* lib_ = nullptr;
};

}  // namespace

TEST_F(sharing, every_visibility_caller_and_resource_answers_as_the_rules_say) {
  auto& lib = *lib_;
  reel::auth::playback_signer signer(k_sharing_key);
  std::string good = lib.link(lib.video);
  std::string expired = signer.sign(lib.video, unix_now() - 5);
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  std::string for_other = lib.link(lib.other_video);
  std::string rotated_away = reel::auth::playback_signer(k_next_key).sign(lib.video, unix_now() + 600);
  // A signed-out session is nobody: it plays what anybody plays.
  auto gone = register_account(lib.port(), "gone@example.com", "Gone");
  ASSERT_EQ(call(lib.port(), "POST", "/api/auth/logout", gone.token).status(), 204);

  struct caller {
    std::string name, bearer, token;
    bool member;
    // What it gets: "play", "404" (not found), "expired" / "invalid" (403).
    std::string private_answer, shared_answer;
  };
  std::vector<caller> callers = {
      {"anonymous", "", "", false, "404", "play"},
      {"member", lib.owner.token, "", true, "play", "play"},
      {"viewer member", lib.viewer.token, "", true, "play", "play"},
      {"member of another organization", lib.stranger.token, "", false, "404", "play"},
      {"signed-out session", gone.token, "", false, "404", "play"},
      {"valid link", "", good, false, "play", "play"},
      {"expired link", "", expired, false, "expired", "expired"},
      {"tampered link", "", tampered, false, "invalid", "invalid"},
      {"link for another video", "", for_other, false, "invalid", "invalid"},
      {"link of a key nobody holds", "", rotated_away, false, "invalid", "invalid"},
      {"member with an expired link", lib.owner.token, expired, true, "play", "play"},
  };
  int cells = 0;
  for (std::string visibility : {"private", "unlisted", "public"}) {
    lib.set_visibility(visibility);
    for (const auto& c : callers) {
      const std::string& expect = visibility == "private" ? c.private_answer : c.shared_answer;
      for (const auto& r : resources_of(lib)) {
        SCOPED_TRACE(visibility + " × " + c.name + " × " + r.name);
        auto reply = call(lib.port(), "GET", with_token(r.path, c.token), c.bearer, "", r.headers);
        ++cells;
        if (expect == "play") {
          EXPECT_EQ(reply.status(), r.ok) << reply.raw.body();
          // Played without membership: any site may read it, without credentials.
          bool open = !c.member;
          EXPECT_EQ(reply.header("Access-Control-Allow-Origin"), open ? "*" : "");
          EXPECT_EQ(reply.header("Access-Control-Allow-Credentials"), "");
          if (open) {
            EXPECT_EQ(reply.header("Cross-Origin-Resource-Policy"), "cross-origin");
          }
        } else if (expect == "404") {
          EXPECT_EQ(reply.status(), 404u) << reply.raw.body();
          EXPECT_EQ(reply.error_code(), "not_found");
        } else {
          EXPECT_EQ(reply.status(), 403u) << reply.raw.body();
          EXPECT_EQ(reply.error_code(), "forbidden");
          std::string message = text(reply.json.at("error"), "message");
          if (expect == "expired") {
            EXPECT_NE(message.find("playback link expired"), std::string::npos) << message;
          } else {
            EXPECT_EQ(message, "The playback link is not valid.");
          }
        }
      }
    }
  }
  EXPECT_EQ(cells, 3 * 11 * 5);
  lib.set_visibility("private");
}

TEST_F(sharing, a_link_rewrites_every_playlist_uri_so_a_player_needs_no_headers) {
  auto& lib = *lib_;
  std::string t = lib.link(lib.video);
  std::string base = "/api/stream/" + lib.video + "/hls/";
  auto master = call(lib.port(), "GET", base + "master.m3u8?token=" + t);
  ASSERT_EQ(master.status(), 200u);
  EXPECT_EQ(master.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(master.header("Cache-Control"), "private, no-store");
  int uris = 0;
  std::istringstream lines(master.raw.body());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(line.ends_with("/index.m3u8?token=" + t)) << line;
    // The rewritten URI, resolved against the master, plays as it is.
    auto variant = call(lib.port(), "GET", base + line);
    ASSERT_EQ(variant.status(), 200u) << line;
    std::istringstream segments(variant.raw.body());
    for (std::string s; std::getline(segments, s);) {
      if (s.empty() || s[0] == '#') continue;
      EXPECT_TRUE(s.ends_with(".ts?token=" + t)) << s;
      std::string dir = line.substr(0, line.find('/') + 1);
      EXPECT_EQ(call(lib.port(), "GET", base + dir + s).status(), 200u) << s;
      ++uris;
    }
  }
  EXPECT_GT(uris, 0);
  // A member's playlists are the files as they are.
  auto own = call(lib.port(), "GET", base + "master.m3u8", lib.owner.token);
  EXPECT_EQ(own.raw.body().find("token="), std::string::npos);
}

TEST_F(sharing, bad_tokens_are_refused_alike_without_saying_what_is_wrong) {
  auto& lib = *lib_;
  std::string path = "/api/stream/" + lib.video + "/video";
  std::string mac(43, 'A');
  for (std::string bad : {std::string("x"), std::string(5000, 'p'), "p.tomorrow." + mac, "p.-5." + mac, "p.1e10." + mac,
                          "p." + std::to_string(unix_now() + 60) + "." + mac, "p.99999999999999999999999." + mac,
                          std::string("p.%00.") + mac}) {
    auto r = call(lib.port(), "GET", path + "?token=" + bad);
    EXPECT_EQ(r.status(), 403u) << bad;
    EXPECT_EQ(r.raw.body(), R"({"error":{"code":"forbidden","message":"The playback link is not valid."}})") << bad;
  }
  // Unknown and malformed ids answer as an existing one would: nothing tells them apart.
  for (std::string id : {"AAAAAAAAAAAAAAAA", "..%2F..%2Fetc", "x"}) {
    auto r = call(lib.port(), "GET", "/api/stream/" + id + "/video?token=" + mac);
    EXPECT_EQ(r.status(), 403u) << id;
  }
  // A genuine link to a video that does not exist (any more) finds nothing.
  reel::auth::playback_signer signer(k_sharing_key);
  auto ghost = call(lib.port(), "GET",
                    "/api/stream/AAAAAAAAAAAAAAAA/video?token=" + signer.sign("AAAAAAAAAAAAAAAA", unix_now() + 60));
  EXPECT_EQ(ghost.status(), 404u);
}

TEST_F(sharing, playback_urls_are_made_by_any_member_for_a_bounded_time) {
  auto& lib = *lib_;
  std::string route = "/api/videos/" + lib.video + "/playback-url";
  // No body: one hour. A viewer may make one.
  auto made = call(lib.port(), "POST", route, lib.viewer.token, "", {{"X-Organization-Id", lib.owner.org_id}});
  ASSERT_EQ(made.status(), 201u) << made.raw.body();
  EXPECT_EQ(made.header("Cache-Control"), "no-store");
  auto expires = reel::from_iso8601(text(made.json, "expiresAt"));
  ASSERT_TRUE(expires);
  auto in = std::chrono::duration_cast<std::chrono::seconds>(*expires - std::chrono::system_clock::now()).count();
  EXPECT_NEAR(static_cast<double>(in), 3600.0, 5.0);
  std::string t = text(made.json, "token");
  EXPECT_EQ(text(made.json, "url"), "/api/stream/" + lib.video + "/video?token=" + t);
  EXPECT_EQ(text(made.json, "hlsUrl"), "/api/stream/" + lib.video + "/hls/master.m3u8?token=" + t);
  EXPECT_EQ(text(made.json, "embedUrl"), "/embed/" + lib.video + "?token=" + t);
  EXPECT_EQ(call(lib.port(), "GET", text(made.json, "url"), "", "", {{"Range", "bytes=0-0"}}).status(), 206u);
  auto week = call_json(lib.port(), "POST", route, lib.owner.token, {{"expiresIn", 604800}});
  EXPECT_EQ(week.status(), 201u);
  for (json::value bad : {json::value(59), json::value(604801), json::value(0), json::value(-1), json::value("3600"),
                          json::value(1.5), json::value(nullptr)}) {
    auto r = call_json(lib.port(), "POST", route, lib.owner.token, {{"expiresIn", bad}});
    EXPECT_EQ(r.status(), 400u) << json::serialize(bad);
    EXPECT_EQ(r.error_code(), "bad_request");
  }
  EXPECT_EQ(call(lib.port(), "POST", route, lib.owner.token, "{not json").status(), 400u);
  EXPECT_EQ(call(lib.port(), "POST", route, lib.owner.token, "[]").status(), 400u);
  // The tenant matrix.
  EXPECT_EQ(call(lib.port(), "POST", route, lib.stranger.token).status(), 404u);
  EXPECT_EQ(call(lib.port(), "POST", route).status(), 401u);
  auto gone = register_account(lib.port(), "gone2@example.com", "Gone");
  ASSERT_EQ(call(lib.port(), "POST", "/api/auth/logout", gone.token).status(), 204);
  EXPECT_EQ(call(lib.port(), "POST", route, gone.token).status(), 401u);
  EXPECT_EQ(call(lib.port(), "POST", "/api/videos/AAAAAAAAAAAAAAAA/playback-url", lib.owner.token).status(), 404u);
}

TEST_F(sharing, visibility_is_set_by_members_and_ends_anonymous_playback_at_once) {
  auto& lib = *lib_;
  std::string route = "/api/videos/" + lib.video;
  std::string stream = "/api/stream/" + lib.video + "/video";
  auto made = call_json(lib.port(), "PATCH", route, lib.owner.token, {{"visibility", "public"}});
  ASSERT_EQ(made.status(), 200u);
  EXPECT_EQ(made.json.at("video").at("visibility"), "public");
  EXPECT_EQ(call(lib.port(), "GET", route, lib.owner.token).json.at("video").at("visibility"), "public");
  EXPECT_EQ(call(lib.port(), "GET", stream, "", "", {{"Range", "bytes=0-9"}}).status(), 206u);  // cached now
  std::string link = lib.link(lib.video);
  ASSERT_EQ(call_json(lib.port(), "PATCH", route, lib.owner.token, {{"visibility", "private"}}).status(), 200u);
  EXPECT_EQ(call(lib.port(), "GET", stream, "", "", {{"Range", "bytes=0-9"}}).status(), 404u);
  // Signed links keep working until they expire.
  EXPECT_EQ(call(lib.port(), "GET", stream + "?token=" + link, "", "", {{"Range", "bytes=0-9"}}).status(), 206u);
  // Who may set it: members and above of the video's organization.
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, lib.viewer.token, {{"visibility", "public"}},
                      {{"X-Organization-Id", lib.owner.org_id}})
                .status(),
            403u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, lib.stranger.token, {{"visibility", "public"}}).status(), 404u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, "", {{"visibility", "public"}}).status(), 401u);
  for (json::value bad : {json::value("everyone"), json::value(""), json::value(1), json::value("PUBLIC")}) {
    auto r = call_json(lib.port(), "PATCH", route, lib.owner.token, {{"visibility", bad}});
    EXPECT_EQ(r.status(), 400u) << json::serialize(bad);
  }
  EXPECT_EQ(call(lib.port(), "GET", route, lib.owner.token).json.at("video").at("visibility"), "private");
}

TEST_F(sharing, uploads_choose_their_visibility) {
  auto& lib = *lib_;
  std::string bytes = random_bytes(1000, 7);
  auto form = upload(lib.port(), lib.owner.token, bytes, {{"title", "Form"}, {"visibility", "public"}});
  ASSERT_EQ(form.status(), 201u) << form.raw.body();
  EXPECT_EQ(form.json.at("video").at("visibility"), "public");
  auto raw = call(lib.port(), "POST", "/api/videos?visibility=unlisted", lib.owner.token, bytes,
                  {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(raw.status(), 201u);
  EXPECT_EQ(raw.json.at("video").at("visibility"), "unlisted");
  auto plain = call(lib.port(), "POST", "/api/videos", lib.owner.token, bytes, {{"Content-Type", "video/mp4"}});
  EXPECT_EQ(plain.json.at("video").at("visibility"), "private");
  auto bad = upload(lib.port(), lib.owner.token, bytes, {{"visibility", "world"}});
  EXPECT_EQ(bad.status(), 400u);
  // tus: the "visibility" metadata (base64 of "public").
  auto tus = call(lib.port(), "POST", "/api/uploads", lib.owner.token, "",
                  {{"Tus-Resumable", "1.0.0"},
                   {"Upload-Length", "10"},
                   {"Upload-Metadata", "filename Y2xpcC5tcDQ=,visibility cHVibGlj"}});
  ASSERT_EQ(tus.status(), 201u) << tus.raw.body();
  std::string video_id = tus.header("X-Video-Id");
  ASSERT_FALSE(video_id.empty());
  EXPECT_EQ(call(lib.port(), "GET", "/api/videos/" + video_id, lib.owner.token).json.at("video").at("visibility"),
            "public");
  auto tus_bad =
      call(lib.port(), "POST", "/api/uploads", lib.owner.token, "",
           {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "10"}, {"Upload-Metadata", "visibility d29ybGQ="}});
  EXPECT_EQ(tus_bad.status(), 400u);
}

TEST_F(sharing, deleting_a_video_ends_every_kind_of_playback_at_once) {
  auto& lib = *lib_;
  auto bytes = make_clip((fs::path(lib.server.data_dir()).parent_path() / "short.mp4").string());
  auto r = call(lib.port(), "POST", "/api/videos?visibility=public", lib.owner.token, bytes,
                {{"Content-Type", "video/mp4"}});
  std::string id = text(r.json.at("video"), "id");
  ASSERT_EQ(wait_for_processing(lib.port(), lib.owner.token, id).at("status"), "ready");
  std::string link = lib.link(id);
  std::string stream = "/api/stream/" + id + "/video";
  EXPECT_EQ(call(lib.port(), "GET", stream, "", "", {{"Range", "bytes=0-9"}}).status(), 206u);
  EXPECT_EQ(call(lib.port(), "GET", stream + "?token=" + link, "", "", {{"Range", "bytes=0-9"}}).status(), 206u);
  ASSERT_EQ(call(lib.port(), "DELETE", "/api/videos/" + id, lib.owner.token).status(), 204u);
  EXPECT_EQ(call(lib.port(), "GET", stream, "", "", {{"Range", "bytes=0-9"}}).status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", stream + "?token=" + link, "", "", {{"Range", "bytes=0-9"}}).status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", "/api/stream/" + id + "/hls/master.m3u8?token=" + link).status(), 404u);
}

TEST_F(sharing, playback_preflights_from_any_site_are_allowed_without_credentials) {
  auto& lib = *lib_;
  auto r = call(lib.port(), "OPTIONS", "/api/stream/" + lib.video + "/video", "", "",
                {{"Origin", "https://blog.example"},
                 {"Access-Control-Request-Method", "GET"},
                 {"Access-Control-Request-Headers", "range"}});
  EXPECT_EQ(r.status(), 204u);
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.header("Access-Control-Allow-Headers"), "range");
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "");
  // The API itself keeps its allowlist.
  auto api = call(lib.port(), "OPTIONS", "/api/videos", "", "",
                  {{"Origin", "https://blog.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(api.header("Access-Control-Allow-Origin"), "");
}

TEST_F(sharing, organizations_have_a_slug_and_embedding_origins_set_by_their_admins) {
  auto& lib = *lib_;
  auto orgs = call(lib.port(), "GET", "/api/orgs", lib.owner.token);
  const auto& mine = orgs.json.at("organizations").at(0);
  EXPECT_EQ(mine.at("slug"), "acme");
  EXPECT_EQ(mine.at("embedOrigins"), json::array());
  std::string route = "/api/orgs/" + lib.owner.org_id;
  auto set =
      call_json(lib.port(), "PATCH", route, lib.owner.token,
                {{"slug", "acme-films"}, {"embedOrigins", json::array{"https://site.example/", "http://a.b:81"}}});
  ASSERT_EQ(set.status(), 200u) << set.raw.body();
  EXPECT_EQ(set.json.at("organization").at("slug"), "acme-films");
  EXPECT_EQ(set.json.at("organization").at("embedOrigins"), (json::array{"https://site.example", "http://a.b:81"}));
  auto again = call(lib.port(), "GET", "/api/orgs", lib.owner.token);
  EXPECT_EQ(again.json.at("organizations").at(0).at("slug"), "acme-films");
  // Another organization's slug is taken; a new organization named alike gets a free one.
  auto taken =
      call_json(lib.port(), "PATCH", "/api/orgs/" + lib.stranger.org_id, lib.stranger.token, {{"slug", "acme-films"}});
  EXPECT_EQ(taken.status(), 409u);
  auto twin = call_json(lib.port(), "POST", "/api/orgs", lib.stranger.token, {{"name", "Acme Films"}});
  ASSERT_EQ(twin.status(), 201u);
  std::string twin_slug = text(twin.json.at("organization"), "slug");
  EXPECT_TRUE(twin_slug.starts_with("acme-films-")) << twin_slug;
  for (json::value bad :
       {json::value("ab"), json::value("Acme"), json::value("-acme"), json::value("acme-"), json::value("a c m e"),
        json::value(std::string(49, 'a')), json::value("acmé"), json::value(5)}) {
    auto r = call_json(lib.port(), "PATCH", route, lib.owner.token, {{"slug", bad}});
    EXPECT_EQ(r.status(), 400u) << json::serialize(bad);
  }
  for (json::value bad : {json::value("https://a.example"), json::value(json::array{"ftp://a.example"}),
                          json::value(json::array{"https://a.example/path"}), json::value(json::array{"a.example"}),
                          json::value(json::array{1}), json::value(json::array{"javascript:alert(1)"})}) {
    auto r = call_json(lib.port(), "PATCH", route, lib.owner.token, {{"embedOrigins", bad}});
    EXPECT_EQ(r.status(), 400u) << json::serialize(bad);
  }
  EXPECT_EQ(call(lib.port(), "PATCH", route, lib.owner.token, "{}").status(), 400u);
  // Roles: a viewer changes nothing; only an owner changes the slug.
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, lib.viewer.token, {{"embedOrigins", json::array()}}).status(), 403u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, lib.stranger.token, {{"slug", "mine"}}).status(), 403u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, "", {{"slug", "mine"}}).status(), 401u);
  auto admin = register_account(lib.port(), "admin@example.com", "Adm");
  invite_and_accept(lib.port(), lib.owner, lib.owner.org_id, admin, "admin");
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, admin.token, {{"slug", "admins-pick"}}).status(), 403u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", route, admin.token, {{"embedOrigins", json::array()}}).status(), 200u);
}

TEST(sharing_keys, links_survive_a_key_rotation_while_the_previous_key_is_kept) {
  shared_library lib({"--workers", "1"});
  std::string link = lib.link(lib.video);
  std::string path = "/api/stream/" + lib.video + "/video?token=" + link;
  std::string data = lib.server.data_dir();
  ASSERT_EQ(lib.server.stop(SIGTERM), 0);
  {
    server_process rotating({"--data-dir", data},
                            {{"REEL_SECRET_KEY", k_next_key}, {"REEL_SECRET_KEY_PREVIOUS", k_sharing_key}});
    EXPECT_EQ(call(rotating.port(), "GET", path, "", "", {{"Range", "bytes=0-0"}}).status(), 206u);
    ASSERT_EQ(rotating.stop(SIGTERM), 0);
  }
  server_process rotated({"--data-dir", data}, {{"REEL_SECRET_KEY", k_next_key}});
  EXPECT_EQ(call(rotated.port(), "GET", path, "", "", {{"Range", "bytes=0-0"}}).status(), 403u);
}

TEST(sharing_keys, without_a_configured_key_one_is_generated_once_and_kept_in_the_database) {
  shared_library lib({}, {});
  std::string link = lib.link(lib.video);
  std::string path = "/api/stream/" + lib.video + "/video?token=" + link;
  std::string data = lib.server.data_dir();
  ASSERT_EQ(lib.server.stop(SIGTERM), 0);
  server_process again({"--data-dir", data});
  EXPECT_EQ(call(again.port(), "GET", path, "", "", {{"Range", "bytes=0-0"}}).status(), 206u);
}
