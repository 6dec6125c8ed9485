// Early playback (docs/API.md "Early playback"): an H.264/AAC source plays
// from a stream copy while its ladder is made; the ladder replaces it at
// ready. The transcode is held with SIGSTOP so that the state in between
// is looked at for as long as the test needs, on either backend.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path early_scratch() { return fs::temp_directory_path() / ("reel-early-" + std::to_string(::getpid())); }

// Waits until the video's ladder is being encoded (the early copy is made before that).
void wait_for_transcode(unsigned short port, const std::string& token, const std::string& id) {
  for (int i = 0; i < 800; ++i) {
    auto v = call(port, "GET", "/api/videos/" + id, token).json.at("video");
    if (v.at("progress").is_object() && v.at("progress").at("stage").as_string() == "hls") return;
    if (v.at("status") == "ready" || v.at("status") == "failed")
      throw std::runtime_error("processed before the test looked");
    std::this_thread::sleep_for(25ms);
  }
  throw std::runtime_error("the transcode never started");
}

// Stops (SIGSTOP) or continues (SIGCONT) the video's ffmpeg runs.
void hold_ffmpeg(const std::string& id, bool hold) {
  shell(std::string("pkill -") + (hold ? "STOP" : "CONT") + " -f '[v]ideos/" + id + "/original' || true");
}

// Holds the video's ffmpeg while alive; lets it go however the test ends.
struct held {
  std::string id;
  explicit held(std::string v) : id(std::move(v)) { hold_ffmpeg(id, true); }
  ~held() { hold_ffmpeg(id, false); }
  held(const held&) = delete;
  held& operator=(const held&) = delete;
};

std::string first_segment(const std::string& playlist) {
  std::istringstream in(playlist);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') return line;
  return "";
}

}  // namespace

TEST(early_playback, h264_aac_source_plays_from_a_stream_copy_until_the_ladder_is_ready) {
  fs::create_directories(early_scratch());
  auto clip = make_clip((early_scratch() / "e.mp4").string(), {.seconds = 12, .width = 640, .height = 360});
  server_process s;
  auto a = register_account(s.port(), "early@example.com", "Early");
  auto other = register_account(s.port(), "other@example.com", "Other");
  auto id = upload_clip(s.port(), a, clip);
  const std::string hls = "/api/stream/" + id + "/hls/";
  wait_for_transcode(s.port(), a.token, id);
  {
    held transcode(id);
    auto v = call(s.port(), "GET", "/api/videos/" + id, a.token).json.at("video");
    EXPECT_EQ(v.at("status"), "processing");
    EXPECT_EQ(v.at("playable"), true);
    EXPECT_EQ(v.at("hlsUrl").as_string(), hls + "master.m3u8");
    EXPECT_TRUE(v.at("streamUrl").is_null());

    auto master = call(s.port(), "GET", hls + "master.m3u8", a.token);
    ASSERT_EQ(master.status(), 200) << master.raw.body();
    EXPECT_NE(master.raw.body().find("RESOLUTION=640x360"), std::string::npos) << master.raw.body();
    EXPECT_EQ(first_segment(master.raw.body()), "source/index.m3u8");
    EXPECT_EQ(master.header("Cache-Control"), "private, no-store");

    auto media = call(s.port(), "GET", hls + "source/index.m3u8", a.token);
    ASSERT_EQ(media.status(), 200);
    EXPECT_NE(media.raw.body().find("#EXT-X-PLAYLIST-TYPE:EVENT"), std::string::npos) << media.raw.body();
    EXPECT_NE(media.raw.body().find("#EXT-X-ENDLIST"), std::string::npos) << media.raw.body();  // the copy is done
    EXPECT_EQ(media.header("Cache-Control"), "private, no-store");
    std::string segment = first_segment(media.raw.body());
    EXPECT_EQ(segment, "seg_000.ts");
    auto seg = call(s.port(), "GET", hls + "source/" + segment, a.token);
    ASSERT_EQ(seg.status(), 200);
    EXPECT_EQ(seg.header("Content-Type"), "video/mp2t");
    ASSERT_FALSE(seg.raw.body().empty());
    EXPECT_EQ(seg.raw.body()[0], '\x47');  // an MPEG-TS packet's sync byte

    // Only the early rendition is there; the rest answers as before ready.
    EXPECT_EQ(call(s.port(), "GET", hls + "240p/index.m3u8", a.token).status(), 404);
    EXPECT_EQ(call(s.port(), "GET", hls + "source/../../original", a.token).status(), 404);
    EXPECT_EQ(call(s.port(), "GET", hls + "source/seg_000.ts.tmp", a.token).status(), 404);
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/video", a.token).status(), 409);
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/thumbnail.jpg", a.token).status(), 409);
    // Another organization, nobody, and a forged link: as if it did not exist.
    EXPECT_EQ(call(s.port(), "GET", hls + "master.m3u8", other.token).status(), 404);
    EXPECT_EQ(call(s.port(), "GET", hls + "source/" + segment, other.token).status(), 404);
    EXPECT_EQ(call(s.port(), "GET", hls + "master.m3u8", "").status(), 404);
    EXPECT_NE(call(s.port(), "GET", hls + "master.m3u8?token=forged", "").status(), 200);

    // A signed link plays it too, and carries itself on every URI.
    auto link = call(s.port(), "POST", "/api/videos/" + id + "/playback-url", a.token, "{}",
                     {{"Content-Type", "application/json"}});
    if (link.status() / 100 == 2) {
      std::string token(link.json.at("token").as_string());
      auto linked = call(s.port(), "GET", hls + "master.m3u8?token=" + token, "");
      ASSERT_EQ(linked.status(), 200);
      EXPECT_NE(linked.raw.body().find("source/index.m3u8?token=" + token), std::string::npos) << linked.raw.body();
      auto linked_media = call(s.port(), "GET", hls + "source/index.m3u8?token=" + token, "");
      ASSERT_EQ(linked_media.status(), 200);
      EXPECT_NE(linked_media.raw.body().find("seg_000.ts?token=" + token), std::string::npos);
    } else {
      ADD_FAILURE() << "no playback link: " << link.status() << " " << link.raw.body();
    }
  }
  auto v = wait_for_processing(s.port(), a.token, id);
  ASSERT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_EQ(v.at("playable"), true);
  auto master = call(s.port(), "GET", hls + "master.m3u8", a.token);
  ASSERT_EQ(master.status(), 200);
  EXPECT_NE(master.raw.body().find("240p/index.m3u8"), std::string::npos) << master.raw.body();
  EXPECT_EQ(master.raw.body().find("source/"), std::string::npos) << master.raw.body();
  EXPECT_EQ(call(s.port(), "GET", hls + "source/index.m3u8", a.token).status(), 404);
  EXPECT_FALSE(fs::exists(fs::path(s.data_dir()) / "orgs" / a.org_id / "videos" / id / "early"));
  fs::remove_all(early_scratch());
}

TEST(early_playback, a_source_that_must_be_transcoded_plays_only_when_ready) {
  fs::create_directories(early_scratch());
  auto clip = make_clip((early_scratch() / "m.mp4").string(),
                        {.seconds = 12, .width = 640, .height = 360, .video_codec = "mpeg4"});
  server_process s;
  auto a = register_account(s.port(), "mpeg4@example.com", "Mpeg4");
  auto id = upload_clip(s.port(), a, clip);
  wait_for_transcode(s.port(), a.token, id);
  {
    held transcode(id);
    auto v = call(s.port(), "GET", "/api/videos/" + id, a.token).json.at("video");
    EXPECT_EQ(v.at("playable"), false);
    EXPECT_TRUE(v.at("hlsUrl").is_null());
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/hls/master.m3u8", a.token).status(), 409);
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/hls/source/index.m3u8", a.token).status(), 409);
  }
  auto v = wait_for_processing(s.port(), a.token, id);
  EXPECT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_EQ(v.at("playable"), true);
  fs::remove_all(early_scratch());
}

TEST(early_playback, a_reprocess_takes_playable_back_until_its_own_copy) {
  fs::create_directories(early_scratch());
  auto clip = make_clip((early_scratch() / "r.mp4").string(), {.seconds = 12, .width = 640, .height = 360});
  server_process s;
  auto a = register_account(s.port(), "again@example.com", "Again");
  auto id = upload_clip(s.port(), a, clip);
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  auto r = call(s.port(), "POST", "/api/videos/" + id + "/reprocess", a.token);
  ASSERT_EQ(r.status(), 202) << r.raw.body();
  EXPECT_EQ(r.json.at("video").at("playable"), false);
  EXPECT_TRUE(r.json.at("video").at("hlsUrl").is_null());
  wait_for_transcode(s.port(), a.token, id);
  {
    held transcode(id);
    auto v = call(s.port(), "GET", "/api/videos/" + id, a.token).json.at("video");
    EXPECT_EQ(v.at("playable"), true);
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/hls/source/seg_000.ts", a.token).status(), 200);
  }
  EXPECT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  fs::remove_all(early_scratch());
}
