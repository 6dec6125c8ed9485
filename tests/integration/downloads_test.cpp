// docs/api-downloads.md: a video as an MP4 attachment (the source-sized MP4,
// or an HLS rung remuxed on demand and cached), the organization's setting
// of what is offered, and who may download, against the real binary, real
// ffmpeg and ffprobe, on the pass's backend.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_downloads_key = "downloads-signing-key-of-at-least-32-characters";
// Quotes and letters outside ASCII (UTF-8).
const std::string k_title = "Say \"Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9\x65\" \xE6\x97\xA5\xE6\x9C\xAC";
const std::string k_disposition =
    "attachment; filename=\"Say 'Cr_me br_l_e' __.mp4\"; "
    "filename*=UTF-8''Say%20%27Cr%C3%A8me%20br%C3%BBl%C3%A9e%27%20%E6%97%A5%E6%9C%AC.mp4";

std::int64_t number(const json::value& v, const char* key) { return v.at(key).to_number<std::int64_t>(); }

// One organization with an owner, a stranger in another, and a ready 6 s
// 640×360 H.264/AAC clip (rungs 360p and 240p) titled k_title.
struct downloads_library {
  server_process server;
  account owner, stranger;
  std::string id;
  fs::path scratch;
  json::value video;
  downloads_library() : server({}, {{"REEL_SECRET_KEY", k_downloads_key}}) {
    owner = register_account(port(), "owner@example.com", "Acme");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    scratch = fs::path(server.data_dir()).parent_path() / "clips";
    fs::create_directories(scratch);
    auto bytes = make_clip((scratch / "clip.mp4").string(), {.seconds = 6, .width = 640, .height = 360});
    auto r = call(port(), "POST", "/api/videos", owner.token, bytes, {{"Content-Type", "video/mp4"}});
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    id = text(r.json.at("video"), "id");
    video = wait_for_processing(port(), owner.token, id);
    if (video.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(video));
    auto t = call_json(port(), "PATCH", "/api/videos/" + id, owner.token, {{"title", k_title}});
    if (t.status() != 200) throw std::runtime_error(t.raw.body());
  }
  unsigned short port() const { return server.port(); }
  fs::path dir() const { return fs::path(server.data_dir()) / "orgs" / owner.org_id / "videos" / id; }
  std::string path(const std::string& query = "") const {
    return "/api/videos/" + id + "/download" + (query.empty() ? "" : "?" + query);
  }
  void settings(const json::object& body) {
    auto r = call_json(port(), "PATCH", "/api/orgs/" + owner.org_id, owner.token, body);
    if (r.status() != 200) throw std::runtime_error(r.raw.body());
  }
  void set_visibility(const std::string& visibility) {
    auto r = call_json(port(), "PATCH", "/api/videos/" + id, owner.token, {{"visibility", visibility}});
    if (r.status() != 200) throw std::runtime_error(r.raw.body());
  }
  std::int64_t used() {
    auto r = call(port(), "GET", "/api/orgs", owner.token);
    for (const auto& o : r.json.at("organizations").as_array())
      if (o.at("id").as_string() == owner.org_id) return number(o, "storageUsedBytes");
    throw std::runtime_error("no organization");
  }
  // The rung named `name` in the video's renditions.
  json::object rung(const std::string& name) const {
    for (const auto& r : video.at("renditions").as_array())
      if (r.at("name").as_string() == name) return r.as_object();
    throw std::runtime_error("no rung " + name);
  }
};

class downloads : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { lib_ = new downloads_library(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  void TearDown() override {
    if (reel::test::suite_setup_failed()) return;
    lib_->settings({{"downloadRenditions", "highest"}, {"downloadSource", false}});
  }
  static inline downloads_library* lib_ = nullptr;
};

// The top-level boxes of an MP4, in order.
std::vector<std::string> top_level_boxes(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at + 8 <= bytes.size()) {
    auto b = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])); };
    std::uint64_t size = b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
    out.push_back(bytes.substr(at + 4, 4));
    if (size == 1 && at + 16 <= bytes.size()) {
      size = 0;
      for (int i = 8; i < 16; ++i) size = size << 8 | b(i);
    }
    if (size < 8) break;
    at += size;
  }
  return out;
}

struct probed {
  std::string codec;
  int width = 0, height = 0;
  double duration = 0;
  std::string audio;
};

probed probe(const fs::path& scratch, const std::string& bytes) {
  auto file = scratch / "download.mp4";
  {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
  }
  probed p;
  auto v = shell("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 '" +
                 file.string() + "'");
  char codec[32] = {0};
  if (std::sscanf(v.c_str(), "%31[^,],%d,%d", codec, &p.width, &p.height) != 3) throw std::runtime_error(v);
  p.codec = codec;
  p.audio =
      shell("ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 '" + file.string() + "'");
  while (!p.audio.empty() && std::isspace(static_cast<unsigned char>(p.audio.back()))) p.audio.pop_back();
  p.duration =
      std::atof(shell("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + file.string() + "'").c_str());
  return p;
}

}  // namespace

TEST_F(downloads, the_source_mp4_has_the_exact_content_disposition) {
  auto& lib = *lib_;
  lib.settings({{"downloadSource", true}});
  auto r = call(lib.port(), "GET", lib.path("rendition=source"), lib.owner.token);
  ASSERT_EQ(r.status(), 200u) << r.raw.body();
  EXPECT_EQ(r.header("Content-Disposition"), k_disposition);
  EXPECT_EQ(r.header("Content-Type"), "video/mp4");
  EXPECT_EQ(r.header("X-Download-Rendition"), "source");
  EXPECT_EQ(r.raw.body(), read_file(lib.dir() / "video.mp4"));
  auto p = probe(lib.scratch, r.raw.body());
  EXPECT_EQ(p.width, 640);
  EXPECT_EQ(p.height, 360);
}

TEST_F(downloads, the_default_is_the_highest_rung_remuxed_into_a_faststart_mp4) {
  auto& lib = *lib_;
  std::int64_t before = lib.used();
  auto r = call(lib.port(), "GET", lib.path(), lib.owner.token);
  ASSERT_EQ(r.status(), 200u) << r.raw.body();
  EXPECT_EQ(r.header("Content-Disposition"), k_disposition);
  EXPECT_EQ(r.header("X-Download-Rendition"), "360p");
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  const std::string& body = r.raw.body();
  auto p = probe(lib.scratch, body);
  auto rung = lib.rung("360p");
  EXPECT_EQ(p.codec, "h264");
  EXPECT_EQ(p.audio, "aac");
  EXPECT_EQ(p.width, number(rung, "width"));
  EXPECT_EQ(p.height, number(rung, "height"));
  EXPECT_NEAR(p.duration, lib.video.at("durationSec").to_number<double>(), 0.5);
  auto boxes = top_level_boxes(body);
  auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov - boxes.begin(), mdat - boxes.begin()) << "moov after mdat: not faststart";
  // Cached in the video's directory, and counted in the organization's usage.
  auto cached = lib.dir() / "downloads" / "360p.mp4";
  ASSERT_TRUE(fs::is_regular_file(cached));
  EXPECT_EQ(fs::file_size(cached), body.size());
  EXPECT_EQ(lib.used(), before + static_cast<std::int64_t>(body.size()));
  // Served again from the cache: same validators, nothing counted twice.
  auto again = call(lib.port(), "GET", lib.path("rendition=360p"), lib.owner.token);
  EXPECT_EQ(again.status(), 200u);
  EXPECT_EQ(again.header("ETag"), r.header("ETag"));
  EXPECT_EQ(lib.used(), before + static_cast<std::int64_t>(body.size()));
  for (const auto& e : fs::directory_iterator(lib.dir() / "downloads"))
    EXPECT_EQ(e.path().filename(), "360p.mp4") << "a temporary file stayed";
}

TEST_F(downloads, ranges_head_and_validators) {
  auto& lib = *lib_;
  auto full = call(lib.port(), "GET", lib.path("rendition=360p"), lib.owner.token);
  ASSERT_EQ(full.status(), 200u);
  auto part = call(lib.port(), "GET", lib.path("rendition=360p"), lib.owner.token, "", {{"Range", "bytes=100-199"}});
  EXPECT_EQ(part.status(), 206u);
  EXPECT_EQ(part.header("Content-Range"), "bytes 100-199/" + std::to_string(full.raw.body().size()));
  EXPECT_EQ(part.raw.body(), full.raw.body().substr(100, 100));
  EXPECT_EQ(part.header("Content-Disposition"), k_disposition);
  auto head = call(lib.port(), "HEAD", lib.path("rendition=360p"), lib.owner.token);
  EXPECT_EQ(head.status(), 200u);
  EXPECT_EQ(head.header("Content-Length"), std::to_string(full.raw.body().size()));
  EXPECT_EQ(head.header("Content-Disposition"), k_disposition);
  EXPECT_TRUE(head.raw.body().empty());
  auto same = call(lib.port(), "GET", lib.path("rendition=360p"), lib.owner.token, "",
                   {{"If-None-Match", full.header("ETag")}});
  EXPECT_EQ(same.status(), 304u);
}

TEST_F(downloads, the_organization_setting_decides_what_is_offered) {
  auto& lib = *lib_;
  auto offered = [&] {
    auto r = call(lib.port(), "GET", "/api/videos/" + lib.id + "/downloads", lib.owner.token);
    EXPECT_EQ(r.status(), 200u) << r.raw.body();
    std::vector<std::string> names;
    for (const auto& d : r.json.at("downloads").as_array()) names.push_back(text(d, "rendition"));
    return names;
  };
  auto status_of = [&](const std::string& query) {
    return call(lib.port(), "GET", lib.path(query), lib.owner.token).status();
  };
  // The default: the highest rung only.
  auto orgs = call(lib.port(), "GET", "/api/orgs", lib.owner.token).json.at("organizations").at(0);
  EXPECT_EQ(orgs.at("downloadRenditions"), "highest");
  EXPECT_EQ(orgs.at("downloadSource"), false);
  EXPECT_EQ(offered(), (std::vector<std::string>{"360p"}));
  EXPECT_EQ(status_of("rendition=240p"), 403u);
  EXPECT_EQ(status_of("rendition=source"), 403u);
  // Everything.
  lib.settings({{"downloadRenditions", "all"}, {"downloadSource", true}});
  EXPECT_EQ(offered(), (std::vector<std::string>{"360p", "240p", "source"}));
  auto low = call(lib.port(), "GET", lib.path("rendition=240p"), lib.owner.token);
  ASSERT_EQ(low.status(), 200u) << low.raw.body();
  auto p = probe(lib.scratch, low.raw.body());
  EXPECT_EQ(p.width, number(lib.rung("240p"), "width"));
  EXPECT_EQ(p.height, number(lib.rung("240p"), "height"));
  // Only the source.
  lib.settings({{"downloadRenditions", "none"}});
  EXPECT_EQ(offered(), (std::vector<std::string>{"source"}));
  auto dflt = call(lib.port(), "GET", lib.path(), lib.owner.token);
  EXPECT_EQ(dflt.status(), 200u);
  EXPECT_EQ(dflt.header("X-Download-Rendition"), "source");
  EXPECT_EQ(status_of("rendition=360p"), 403u);
  // Nothing.
  lib.settings({{"downloadSource", false}});
  EXPECT_TRUE(offered().empty());
  auto none = call(lib.port(), "GET", lib.path(), lib.owner.token);
  EXPECT_EQ(none.status(), 403u);
  EXPECT_EQ(none.error_code(), "forbidden");
  // Bad settings, and who may change them.
  auto org_path = "/api/orgs/" + lib.owner.org_id;
  EXPECT_EQ(call_json(lib.port(), "PATCH", org_path, lib.owner.token, {{"downloadRenditions", "some"}}).status(), 400u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", org_path, lib.owner.token, {{"downloadRenditions", 1}}).status(), 400u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", org_path, lib.owner.token, {{"downloadSource", "yes"}}).status(), 400u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", org_path, "", {{"downloadSource", true}}).status(), 401u);
  EXPECT_EQ(call_json(lib.port(), "PATCH", org_path, lib.stranger.token, {{"downloadSource", true}}).status(), 403u);
  EXPECT_TRUE(offered().empty());
}

TEST_F(downloads, who_may_download_follows_playback) {
  auto& lib = *lib_;
  auto made = call(lib.port(), "POST", "/api/videos/" + lib.id + "/playback-url", lib.owner.token);
  ASSERT_EQ(made.status(), 201u) << made.raw.body();
  std::string good = text(made.json, "token");
  std::string tampered = good;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
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
  };
  for (std::string visibility : {"private", "unlisted", "public"}) {
    lib.set_visibility(visibility);
    for (const auto& c : callers) {
      for (std::string route : {"/download", "/downloads"}) {
        for (std::string method : {"GET", "HEAD"}) {
          if (route == "/downloads" && method == "HEAD") continue;
          SCOPED_TRACE(visibility + " × " + c.name + " × " + method + " " + route);
          std::string path = "/api/videos/" + lib.id + route + (c.token.empty() ? "" : "?token=" + c.token);
          auto r = call(lib.port(), method, path, c.bearer);
          unsigned want = visibility == "private" ? c.on_private : c.on_public;
          EXPECT_EQ(r.status(), want) << r.raw.body();
          if (method == "GET" && want == 404) {
            EXPECT_EQ(r.error_code(), "not_found");
          }
          if (route == "/download" && want == 200) {
            EXPECT_EQ(r.header("Content-Disposition"), k_disposition);
          }
          if (route == "/downloads" && want == 200 && !c.token.empty()) {
            auto url = text(r.json.at("downloads").at(0), "url");
            EXPECT_NE(url.find("&token="), std::string::npos) << url;
            EXPECT_EQ(call(lib.port(), "HEAD", url).status(), 200u) << url;
          }
        }
      }
    }
  }
  lib.set_visibility("private");
}

TEST_F(downloads, bad_renditions_are_refused) {
  auto& lib = *lib_;
  lib.settings({{"downloadRenditions", "all"}, {"downloadSource", true}});
  for (const std::string& bad :
       std::vector<std::string>{"../360p", "..%2F..%2Fhls%2F360p", "360p%2Findex.m3u8", "", "999p", "360P", "hls",
                                "%00", std::string(17, 'a'), "source%20", "..", "360p/../../original"}) {
    SCOPED_TRACE(bad);
    auto r = call(lib.port(), "GET", lib.path("rendition=" + bad), lib.owner.token);
    EXPECT_EQ(r.status(), 400u) << r.raw.body();
    EXPECT_EQ(r.error_code(), "bad_request");
  }
  EXPECT_EQ(call(lib.port(), "GET", "/api/videos/AAAAAAAAAAAAAAAA/download", lib.owner.token).status(), 404u);
  EXPECT_EQ(call(lib.port(), "GET", "/api/videos/..%2F..%2Fx/download", lib.owner.token).status(), 404u);
  EXPECT_FALSE(fs::exists(lib.dir() / "downloads" / "999p.mp4"));
}

// Last: it reprocesses and deletes the video.
TEST_F(downloads, z_reprocessing_removes_the_cached_mp4s_and_deleting_releases_them) {
  auto& lib = *lib_;
  auto made = call(lib.port(), "GET", lib.path("rendition=360p"), lib.owner.token);
  ASSERT_EQ(made.status(), 200u);
  ASSERT_TRUE(fs::exists(lib.dir() / "downloads" / "360p.mp4"));
  auto re = call(lib.port(), "POST", "/api/videos/" + lib.id + "/reprocess", lib.owner.token);
  ASSERT_EQ(re.status(), 202u) << re.raw.body();
  auto busy = call(lib.port(), "GET", lib.path(), lib.owner.token);
  EXPECT_EQ(busy.status(), 409u) << busy.raw.body();
  EXPECT_EQ(busy.error_code(), "conflict");
  ASSERT_EQ(wait_for_processing(lib.port(), lib.owner.token, lib.id).at("status"), "ready");
  EXPECT_FALSE(fs::exists(lib.dir() / "downloads"));
  // The usage is the original and the outputs on disk, nothing more.
  std::int64_t on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(lib.dir()))
    if (e.is_regular_file()) on_disk += static_cast<std::int64_t>(e.file_size());
  EXPECT_EQ(lib.used(), on_disk);
  auto again = call(lib.port(), "GET", lib.path(), lib.owner.token);
  ASSERT_EQ(again.status(), 200u);
  EXPECT_EQ(lib.used(), on_disk + static_cast<std::int64_t>(again.raw.body().size()));
  ASSERT_EQ(call(lib.port(), "DELETE", "/api/videos/" + lib.id, lib.owner.token).status(), 204u);
  EXPECT_EQ(lib.used(), 0);
  EXPECT_FALSE(fs::exists(lib.dir()));
}
