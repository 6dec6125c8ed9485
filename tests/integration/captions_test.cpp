// docs/api-captions.md: uploading, listing, replacing and deleting a
// video's captions, serving them (WebVTT, an HLS playlist, the master
// playlist's SUBTITLES group) and who may do which, against the real
// binary, on the pass's backend.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include "db/database.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_srt =
    "\xEF\xBB\xBF"
    "1\r\n00:00:00,000 --> 00:00:01,500\r\nBonjour à tous\r\n\r\n2\r\n00:00:01,500 --> 00:00:03,000\r\nÇa va ?\r\n";
constexpr const char* k_vtt_body = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 align:start\nHello again\n";

std::int64_t caption_rows(const std::string& data_dir, const std::string& video_id) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  std::int64_t n = 0;
  db->transact(false, [&](reel::db::transaction& s) {
    n = s.query_one("SELECT COUNT(*) FROM captions WHERE video_id = ?", {video_id})->int64(0);
  });
  return n;
}

// One organization with an owner, a member and a viewer; a stranger in
// another; one ready video.
struct captions_library {
  server_process server;
  account owner, member, viewer, stranger;
  std::string video;
  captions_library() : server({}, {{"REEL_SECRET_KEY", "a-signing-key-of-at-least-32-characters!"}}) {
    owner = register_account(port(), "owner@example.com", "Acme");
    member = register_account(port(), "member@example.com", "M");
    viewer = register_account(port(), "viewer@example.com", "V");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    invite_and_accept(port(), owner, owner.org_id, member, "member");
    invite_and_accept(port(), owner, owner.org_id, viewer, "viewer");
    auto clip = make_clip((fs::path(server.data_dir()).parent_path() / "clip.mp4").string());
    auto r = call(port(), "POST", "/api/videos", owner.token, clip, {{"Content-Type", "video/mp4"}});
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    video = text(r.json.at("video"), "id");
    auto v = wait_for_processing(port(), owner.token, video);
    if (v.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(v));
  }
  unsigned short port() const { return server.port(); }
  std::string captions() const { return "/api/videos/" + video + "/captions"; }
  std::string stream(const std::string& file) const { return "/api/stream/" + video + "/" + file; }
  // The member acts in the owner's organization (their own is their oldest).
  api_reply send(const account& who, const std::string& method, const std::string& path, const std::string& body,
                 const std::string& type) const {
    return call(port(), method, path, who.token, body, {{"Content-Type", type}, {"X-Organization-Id", owner.org_id}});
  }
};

class captions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { lib_ = new captions_library(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  void TearDown() override {
    if (reel::test::suite_setup_failed()) return;
    // Each test starts with no captions.
    auto list = call(lib_->port(), "GET", lib_->captions(), lib_->owner.token);
    for (const auto& c : list.json.at("captions").as_array())
      call(lib_->port(), "DELETE", lib_->captions() + "/" + text(c, "language"), lib_->owner.token);
  }
  static inline captions_library* lib_ = nullptr;
};

}  // namespace

TEST_F(captions, an_srt_upload_is_listed_served_as_webvtt_named_in_the_master_replaced_and_deleted) {
  auto& lib = *lib_;
  auto added = lib.send(lib.member, "POST", lib.captions() + "?language=FR-ca&label=Fran%C3%A7ais", k_srt,
                        "application/x-subrip");
  ASSERT_EQ(added.status(), 201) << added.raw.body();
  EXPECT_EQ(text(added.json.at("caption"), "language"), "fr-CA");
  EXPECT_EQ(text(added.json.at("caption"), "label"), "Français");
  std::string vtt_url = "/api/stream/" + lib.video + "/captions/fr-CA.vtt";
  EXPECT_EQ(text(added.json.at("caption"), "url"), vtt_url);

  auto list = call(lib.port(), "GET", lib.captions(), lib.viewer.token, "", {{"X-Organization-Id", lib.owner.org_id}});
  ASSERT_EQ(list.status(), 200) << list.raw.body();
  ASSERT_EQ(list.json.at("captions").as_array().size(), 1u);
  EXPECT_EQ(text(list.json.at("captions").at(0), "url"), vtt_url);

  std::string expected =
      "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nBonjour à tous\n\n00:00:01.500 --> 00:00:03.000\nÇa va ?\n";
  auto vtt = call(lib.port(), "GET", vtt_url, lib.owner.token);
  ASSERT_EQ(vtt.status(), 200);
  EXPECT_EQ(vtt.header("Content-Type"), "text/vtt; charset=utf-8");
  EXPECT_EQ(vtt.raw.body(), expected);
  EXPECT_EQ(added.json.at("caption").at("sizeBytes").as_int64(), static_cast<std::int64_t>(expected.size()));

  // The master playlist names it; its playlist is one segment, the WebVTT file.
  auto master = call(lib.port(), "GET", lib.stream("hls/master.m3u8"), lib.owner.token);
  ASSERT_EQ(master.status(), 200);
  const std::string& m = master.raw.body();
  EXPECT_NE(m.find("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Français\",LANGUAGE=\"fr-CA\",DEFAULT=NO,"
                   "AUTOSELECT=YES,URI=\"../captions/fr-CA.m3u8\"\n"),
            std::string::npos)
      << m;
  std::size_t variants = 0, named = 0;
  for (std::size_t at = m.find("#EXT-X-STREAM-INF:"); at != std::string::npos;
       at = m.find("#EXT-X-STREAM-INF:", at + 1)) {
    ++variants;
    std::string line = m.substr(at, m.find('\n', at) - at);
    if (line.ends_with(",SUBTITLES=\"subs\"")) ++named;
  }
  EXPECT_GE(variants, 1u);
  EXPECT_EQ(named, variants) << m;
  EXPECT_LT(m.find("#EXT-X-MEDIA:TYPE=SUBTITLES"), m.find("#EXT-X-STREAM-INF:"));
  auto playlist = call(lib.port(), "GET", lib.stream("captions/fr-CA.m3u8"), lib.owner.token);
  ASSERT_EQ(playlist.status(), 200);
  EXPECT_EQ(playlist.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_NE(playlist.raw.body().find("\nfr-CA.vtt\n#EXT-X-ENDLIST\n"), std::string::npos) << playlist.raw.body();

  // Replaced: new text, the label kept; then a label given.
  auto replaced = lib.send(lib.member, "PUT", lib.captions() + "/fr-ca", k_vtt_body, "text/vtt; charset=utf-8");
  ASSERT_EQ(replaced.status(), 200) << replaced.raw.body();
  EXPECT_EQ(text(replaced.json.at("caption"), "label"), "Français");
  EXPECT_EQ(call(lib.port(), "GET", vtt_url, lib.owner.token).raw.body(),
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 align:start\nHello again\n");
  auto relabeled = lib.send(lib.owner, "PUT", lib.captions() + "/fr-CA?label=Qu%C3%A9bec", k_vtt_body, "text/vtt");
  ASSERT_EQ(relabeled.status(), 200);
  EXPECT_EQ(text(relabeled.json.at("caption"), "label"), "Québec");
  // PUT of a new language adds it (201); both are listed, by language.
  auto english = lib.send(lib.owner, "PUT", lib.captions() + "/en", k_vtt_body, "text/vtt");
  ASSERT_EQ(english.status(), 201);
  EXPECT_EQ(text(english.json.at("caption"), "label"), "en");
  list = call(lib.port(), "GET", lib.captions(), lib.owner.token);
  ASSERT_EQ(list.json.at("captions").as_array().size(), 2u);
  EXPECT_EQ(text(list.json.at("captions").at(0), "language"), "en");
  master = call(lib.port(), "GET", lib.stream("hls/master.m3u8"), lib.owner.token);
  EXPECT_NE(master.raw.body().find("NAME=\"Québec\",LANGUAGE=\"fr-CA\""), std::string::npos);
  EXPECT_NE(master.raw.body().find("NAME=\"en\",LANGUAGE=\"en\""), std::string::npos);

  // Deleted: gone from the list, the stream and the master.
  auto deleted = lib.send(lib.member, "DELETE", lib.captions() + "/fr-CA", "", "text/plain");
  EXPECT_EQ(deleted.status(), 204);
  EXPECT_EQ(lib.send(lib.member, "DELETE", lib.captions() + "/fr-CA", "", "text/plain").status(), 404);
  EXPECT_EQ(call(lib.port(), "GET", vtt_url, lib.owner.token).status(), 404);
  EXPECT_EQ(call(lib.port(), "GET", lib.stream("captions/fr-CA.m3u8"), lib.owner.token).status(), 404);
  master = call(lib.port(), "GET", lib.stream("hls/master.m3u8"), lib.owner.token);
  EXPECT_EQ(master.raw.body().find("fr-CA"), std::string::npos);
  EXPECT_NE(master.raw.body().find("LANGUAGE=\"en\""), std::string::npos);
  ASSERT_EQ(lib.send(lib.owner, "DELETE", lib.captions() + "/en", "", "text/plain").status(), 204);
  master = call(lib.port(), "GET", lib.stream("hls/master.m3u8"), lib.owner.token);
  EXPECT_EQ(master.raw.body().find("SUBTITLES"), std::string::npos) << master.raw.body();
}

TEST_F(captions, other_tenants_anonymous_viewers_and_revoked_sessions_are_refused) {
  auto& lib = *lib_;
  ASSERT_EQ(lib.send(lib.owner, "POST", lib.captions() + "?language=en", k_vtt_body, "text/vtt").status(), 201);
  std::string one = lib.captions() + "/en";
  auto revoked = register_account(lib.port(), "revoked@example.com", "R");
  invite_and_accept(lib.port(), lib.owner, lib.owner.org_id, revoked, "owner");
  ASSERT_EQ(call(lib.port(), "POST", "/api/auth/logout", revoked.token).status(), 204);

  struct change {
    std::string method, path, body, type;
  };
  std::vector<change> changes = {{"POST", lib.captions() + "?language=de", k_vtt_body, "text/vtt"},
                                 {"PUT", one, k_vtt_body, "text/vtt"},
                                 {"DELETE", one, "", "text/plain"}};
  for (const auto& c : changes) {
    SCOPED_TRACE(c.method);
    // Another organization's id: not found, with or without naming the owner's organization.
    auto stranger = call(lib.port(), c.method, c.path, lib.stranger.token, c.body, {{"Content-Type", c.type}});
    EXPECT_EQ(stranger.status(), 404) << stranger.raw.body();
    EXPECT_EQ(stranger.error_code(), "not_found");
    auto named = lib.send(lib.stranger, c.method, c.path, c.body, c.type);
    EXPECT_EQ(named.status(), 403) << named.raw.body();  // not a member of the organization named
    auto anonymous = call(lib.port(), c.method, c.path, "", c.body, {{"Content-Type", c.type}});
    EXPECT_EQ(anonymous.status(), 401);
    EXPECT_EQ(anonymous.error_code(), "unauthorized");
    auto gone = call(lib.port(), c.method, c.path, revoked.token, c.body, {{"Content-Type", c.type}});
    EXPECT_EQ(gone.status(), 401);
    auto viewer = lib.send(lib.viewer, c.method, c.path, c.body, c.type);
    EXPECT_EQ(viewer.status(), 403) << viewer.raw.body();
    EXPECT_EQ(viewer.error_code(), "forbidden");
  }
  // Reading: the private video's captions are not found for anybody outside.
  for (const std::string& path : {lib.captions(), lib.stream("captions/en.vtt"), lib.stream("captions/en.m3u8")}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(call(lib.port(), "GET", path, lib.stranger.token).status(), 404);
    EXPECT_EQ(call(lib.port(), "GET", path).status(), 404);
    EXPECT_EQ(call(lib.port(), "GET", path, revoked.token).status(), 404);
    EXPECT_EQ(call(lib.port(), "GET", path, lib.viewer.token, "", {{"X-Organization-Id", lib.owner.org_id}}).status(),
              200);
  }
  // Nothing changed.
  auto list = call(lib.port(), "GET", lib.captions(), lib.owner.token);
  ASSERT_EQ(list.json.at("captions").as_array().size(), 1u);
  EXPECT_EQ(call(lib.port(), "GET", lib.stream("captions/en.vtt"), lib.owner.token).raw.body(),
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 align:start\nHello again\n");
}

TEST_F(captions, public_videos_and_signed_links_play_their_captions_with_the_link_on_every_uri) {
  auto& lib = *lib_;
  ASSERT_EQ(lib.send(lib.owner, "POST", lib.captions() + "?language=en&label=English", k_vtt_body, "text/vtt").status(),
            201);
  auto link =
      call_json(lib.port(), "POST", "/api/videos/" + lib.video + "/playback-url", lib.owner.token, json::object{});
  ASSERT_EQ(link.status(), 201) << link.raw.body();
  std::string token = text(link.json, "token");
  auto list = call(lib.port(), "GET", lib.captions() + "?token=" + token);
  ASSERT_EQ(list.status(), 200) << list.raw.body();
  EXPECT_EQ(text(list.json.at("captions").at(0), "url"), lib.stream("captions/en.vtt?token=" + token));
  auto master = call(lib.port(), "GET", lib.stream("hls/master.m3u8?token=" + token));
  ASSERT_EQ(master.status(), 200);
  EXPECT_NE(master.raw.body().find("URI=\"../captions/en.m3u8?token=" + token + "\""), std::string::npos)
      << master.raw.body();
  auto playlist = call(lib.port(), "GET", lib.stream("captions/en.m3u8?token=" + token));
  ASSERT_EQ(playlist.status(), 200);
  EXPECT_NE(playlist.raw.body().find("\nen.vtt?token=" + token + "\n"), std::string::npos) << playlist.raw.body();
  auto vtt = call(lib.port(), "GET", lib.stream("captions/en.vtt?token=" + token));
  ASSERT_EQ(vtt.status(), 200);
  EXPECT_EQ(vtt.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(call(lib.port(), "GET", lib.stream("captions/en.vtt?token=" + token + "x")).status(), 403);

  auto made_public =
      call_json(lib.port(), "PATCH", "/api/videos/" + lib.video, lib.owner.token, {{"visibility", "public"}});
  ASSERT_EQ(made_public.status(), 200);
  EXPECT_EQ(call(lib.port(), "GET", lib.captions()).status(), 200);
  EXPECT_EQ(call(lib.port(), "GET", lib.stream("captions/en.vtt"), lib.stranger.token).status(), 200);
  // Still only members change them.
  EXPECT_EQ(call(lib.port(), "DELETE", lib.captions() + "/en", lib.stranger.token).status(), 404);
  ASSERT_EQ(
      call_json(lib.port(), "PATCH", "/api/videos/" + lib.video, lib.owner.token, {{"visibility", "private"}}).status(),
      200);
}

TEST_F(captions, bad_files_and_parameters_get_the_error_saying_what_is_wrong) {
  auto& lib = *lib_;
  auto post = [&](const std::string& query, const std::string& body, const std::string& type) {
    return lib.send(lib.owner, "POST", lib.captions() + query, body, type);
  };
  auto broken = post("?language=en", "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:01:xx,000 --> 00:01:05,000\nTwo\n",
                     "application/x-subrip");
  EXPECT_EQ(broken.status(), 400);
  EXPECT_EQ(broken.error_code(), "bad_request");
  EXPECT_EQ(text(broken.json.at("error"), "message"), "line 6: bad timestamp '00:01:xx,000'");
  auto not_vtt = post("?language=en", k_srt, "text/vtt");
  EXPECT_EQ(not_vtt.status(), 400);
  EXPECT_EQ(text(not_vtt.json.at("error"), "message"), "line 1: a WebVTT file must start with 'WEBVTT'");
  auto latin1 = post("?language=en", "WEBVTT\n\n00:01.000 --> 00:02.000\nCaf\xE9\n", "text/vtt");
  EXPECT_EQ(text(latin1.json.at("error"), "message"), "line 4: invalid UTF-8");
  EXPECT_EQ(post("?language=en", "", "text/vtt").status(), 400);
  for (const char* language : {"", "?language=", "?language=english", "?language=en_US", "?language=..%2Fen"}) {
    auto bad = post(language, k_vtt_body, "text/vtt");
    EXPECT_EQ(bad.status(), 400) << language;
    EXPECT_NE(text(bad.json.at("error"), "message").find("\"language\""), std::string::npos) << language;
  }
  EXPECT_EQ(lib.send(lib.owner, "PUT", lib.captions() + "/english", k_vtt_body, "text/vtt").status(), 400);
  EXPECT_EQ(post("?language=en&label=", k_vtt_body, "text/vtt").status(), 400);
  EXPECT_EQ(post("?language=en&label=" + std::string(101, 'x'), k_vtt_body, "text/vtt").status(), 400);
  EXPECT_EQ(post("?language=en&label=a%07b", k_vtt_body, "text/vtt").status(), 400);
  for (const char* type : {"text/plain", "application/json", "video/mp4"}) {
    auto wrong = post("?language=en", k_vtt_body, type);
    EXPECT_EQ(wrong.status(), 415) << type;
    EXPECT_EQ(wrong.error_code(), "unsupported_media_type");
  }
  std::string big = "WEBVTT\n\n00:01.000 --> 00:02.000\n" + std::string(2 * 1024 * 1024, 'a') + "\n";
  auto too_large = post("?language=en", big, "text/vtt");
  EXPECT_EQ(too_large.status(), 413);
  EXPECT_EQ(too_large.error_code(), "payload_too_large");
  // A language taken: 409, and the first file stays.
  ASSERT_EQ(post("?language=en", k_vtt_body, "text/vtt").status(), 201);
  auto again = post("?language=EN", k_srt, "application/x-subrip");
  EXPECT_EQ(again.status(), 409);
  EXPECT_EQ(again.error_code(), "conflict");
  EXPECT_EQ(call(lib.port(), "GET", lib.stream("captions/en.vtt"), lib.owner.token).raw.body(),
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000 align:start\nHello again\n");
  // Unknown files under the captions stream.
  for (const char* file : {"captions/de.vtt", "captions/en.srt", "captions/english.vtt", "captions/en"})
    EXPECT_EQ(call(lib.port(), "GET", lib.stream(file), lib.owner.token).status(), 404) << file;
}

TEST_F(captions, deleting_the_video_deletes_its_captions) {
  auto& lib = *lib_;
  auto clip = read_file(fs::path(lib.server.data_dir()).parent_path() / "clip.mp4");
  auto r = call(lib.port(), "POST", "/api/videos", lib.owner.token, clip, {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(r.status(), 201);
  std::string id = text(r.json.at("video"), "id");
  // Captions may be added while the video is still being processed.
  auto added = call(lib.port(), "POST", "/api/videos/" + id + "/captions?language=en", lib.owner.token, k_vtt_body,
                    {{"Content-Type", "text/vtt"}});
  ASSERT_EQ(added.status(), 201) << added.raw.body();
  EXPECT_EQ(caption_rows(lib.server.data_dir(), id), 1);
  wait_for_processing(lib.port(), lib.owner.token, id);
  ASSERT_EQ(call(lib.port(), "DELETE", "/api/videos/" + id, lib.owner.token).status(), 204);
  EXPECT_EQ(call(lib.port(), "GET", "/api/videos/" + id + "/captions", lib.owner.token).status(), 404);
  EXPECT_EQ(caption_rows(lib.server.data_dir(), id), 0);
}

TEST_F(captions, concurrent_puts_of_a_new_language_add_it_once_and_replace_it_after) {
  auto& lib = *lib_;
  std::vector<unsigned> statuses(8);
  std::vector<std::thread> puts;
  for (std::size_t i = 0; i < statuses.size(); ++i)
    puts.emplace_back([&, i] {
      std::string body = "WEBVTT\n\n00:00.000 --> 00:01.000\nTake " + std::to_string(i) + "\n";
      statuses[i] = lib.send(lib.owner, "PUT", lib.captions() + "/de", body, "text/vtt").status();
    });
  for (auto& t : puts) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201u), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200u), 7);
  EXPECT_EQ(caption_rows(lib.server.data_dir(), lib.video), 1);
}
