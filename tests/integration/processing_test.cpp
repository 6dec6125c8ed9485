// The processing pipeline end to end: real ffmpeg, real queue, real restarts.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include "store/sqlite.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct job_row {
  std::string state;
  std::int64_t attempts = 0;
};

job_row job_of(const std::string& data_dir, const std::string& video_id) {
  reel::store::sqlite_database db(data_dir + "/reel.db", 1);
  job_row j;
  db.transact(false, [&](reel::store::session& s) {
    auto r =
        s.query_one("SELECT state, attempts FROM jobs WHERE video_id = ? ORDER BY created_at DESC LIMIT 1", {video_id});
    if (r) j = {r->text(0), r->int64(1)};
  });
  return j;
}

std::string upload_clip(unsigned short port, const account& a, const std::string& bytes, const std::string& type) {
  auto r = call(port, "POST", "/api/videos", a.token, bytes, {{"Content-Type", type}});
  if (r.status() != 201) throw std::runtime_error(r.raw.body());
  return std::string(r.json.at("video").at("id").as_string());
}

fs::path video_dir(const server_process& s, const account& a, const std::string& id) {
  return fs::path(s.data_dir()) / "orgs" / a.org_id / "videos" / id;
}

// Waits until the video is in `stage` of processing.
void wait_for_stage(unsigned short port, const std::string& token, const std::string& id, const std::string& stage) {
  for (int i = 0; i < 400; ++i) {
    auto v = call(port, "GET", "/api/videos/" + id, token).json.at("video");
    if (v.at("progress").is_object() && v.at("progress").at("stage").as_string() == stage) return;
    std::this_thread::sleep_for(25ms);
  }
  throw std::runtime_error("never reached stage " + stage);
}

fs::path scratch() { return fs::temp_directory_path() / ("reel-proc-" + std::to_string(::getpid())); }

std::string mp4_dimensions(const fs::path& p) {
  return shell("ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x '" + p.string() +
               "'");
}

}  // namespace

TEST(processing, clip_becomes_ready_with_metadata_faststart_mp4_and_hls) {
  server_process s;
  auto a = register_account(s.port(), "p@example.com", "P");
  fs::create_directories(scratch());
  auto clip = make_clip((scratch() / "a.mp4").string(), {.seconds = 3, .width = 320, .height = 240});
  auto id = upload_clip(s.port(), a, clip, "video/mp4");
  auto v = wait_for_processing(s.port(), a.token, id);
  ASSERT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_NEAR(v.at("durationSec").to_number<double>(), 3.0, 0.2);
  EXPECT_EQ(v.at("width").to_number<int>(), 320);
  EXPECT_EQ(v.at("height").to_number<int>(), 240);
  EXPECT_EQ(v.at("videoCodec"), "h264");
  EXPECT_EQ(v.at("audioCodec"), "aac");
  EXPECT_TRUE(v.at("progress").is_null());
  EXPECT_TRUE(v.at("error").is_null());
  EXPECT_FALSE(v.at("readyAt").is_null());
  EXPECT_EQ(v.at("streamUrl").as_string(), "/api/stream/" + id + "/video");
  ASSERT_EQ(v.at("renditions").as_array().size(), 1u);
  EXPECT_EQ(v.at("renditions").at(0).at("name"), "240p");
  EXPECT_GT(v.at("renditions").at(0).at("bandwidth").to_number<double>(), 0);

  auto dir = video_dir(s, a, id);
  // Faststart: the moov atom comes before mdat.
  std::string mp4 = read_file(dir / "video.mp4");
  auto moov = mp4.find("moov"), mdat = mp4.find("mdat");
  ASSERT_NE(moov, std::string::npos);
  EXPECT_LT(moov, mdat);
  // The MP4 decodes, and the master playlist and its rendition parse with ffprobe.
  EXPECT_EQ(std::system(("ffmpeg -v error -i '" + (dir / "video.mp4").string() + "' -f null - ").c_str()), 0);
  EXPECT_EQ(shell("ffprobe -v error -show_entries format=format_name -of csv=p=0 '" +
                  (dir / "hls/master.m3u8").string() + "'"),
            "hls\n");
  EXPECT_NE(shell("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 '" +
                  (dir / "hls/240p/index.m3u8").string() + "'")
                .find("h264"),
            std::string::npos);
  std::string master = read_file(dir / "hls/master.m3u8");
  EXPECT_NE(master.find("BANDWIDTH="), std::string::npos);
  EXPECT_NE(master.find("RESOLUTION=320x240"), std::string::npos);
  EXPECT_NE(master.find("CODECS=\"avc1.4d402a,mp4a.40.2\""), std::string::npos);
  // The poster.
  auto poster = call(s.port(), "GET", "/api/stream/" + id + "/thumbnail.jpg", a.token);
  ASSERT_EQ(poster.status(), 200);
  EXPECT_EQ(poster.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(poster.raw.body().substr(0, 2), "\xff\xd8");
  EXPECT_EQ(job_of(s.data_dir(), id).state, "succeeded");
  fs::remove_all(scratch());
}

TEST(processing, rotated_phone_video_without_audio_is_encoded_upright) {
  server_process s;
  auto a = register_account(s.port(), "r@example.com", "R");
  fs::create_directories(scratch());
  // MPEG-4 Part 2 (so it must be re-encoded), no audio, shot sideways.
  auto clip =
      make_clip((scratch() / "r.mp4").string(),
                {.seconds = 2, .width = 480, .height = 272, .audio = false, .video_codec = "mpeg4", .rotate = 90});
  auto id = upload_clip(s.port(), a, clip, "video/mp4");
  auto v = wait_for_processing(s.port(), a.token, id);
  ASSERT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_EQ(v.at("width").to_number<int>(), 272);
  EXPECT_EQ(v.at("height").to_number<int>(), 480);
  EXPECT_TRUE(v.at("audioCodec").is_null());
  EXPECT_EQ(v.at("videoCodec"), "mpeg4");
  auto dir = video_dir(s, a, id);
  EXPECT_EQ(mp4_dimensions(dir / "video.mp4"), "272x480\n");  // upright pixels, not a rotation flag
  EXPECT_EQ(shell("ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 '" +
                  (dir / "video.mp4").string() + "'"),
            "h264\n");
  auto names = v.at("renditions").as_array();
  ASSERT_EQ(names.size(), 3u);  // 240p, 360p, 480p: at or below the source height
  EXPECT_EQ(names[2].at("name"), "480p");
  EXPECT_EQ(names[2].at("width").to_number<int>(), 272);
  std::string master = read_file(dir / "hls/master.m3u8");
  EXPECT_EQ(master.find("mp4a"), std::string::npos);
  fs::remove_all(scratch());
}

TEST(processing, corrupt_and_audio_only_files_fail_with_a_reason_and_no_retry_storm) {
  server_process s({"--job-retry-base-ms", "100"});
  auto a = register_account(s.port(), "c@example.com", "C");
  fs::create_directories(scratch());
  std::string junk = random_bytes(200'000, 11);
  auto corrupt = upload_clip(s.port(), a, junk, "video/mp4");
  auto v = wait_for_processing(s.port(), a.token, corrupt);
  EXPECT_EQ(v.at("status"), "failed");
  EXPECT_NE(std::string(v.at("error").as_string()).find("not a readable video"), std::string::npos) << v.at("error");
  std::system(
      ("ffmpeg -v error -y -f lavfi -i sine=frequency=300:duration=2 -c:a aac '" + (scratch() / "s.m4a").string() + "'")
          .c_str());
  auto audio_only = upload_clip(s.port(), a, read_file(scratch() / "s.m4a"), "video/mp4");
  auto w = wait_for_processing(s.port(), a.token, audio_only);
  EXPECT_EQ(w.at("status"), "failed");
  EXPECT_EQ(w.at("error"), "The file has no video stream.");
  std::this_thread::sleep_for(500ms);  // longer than the retry delay: nothing comes back
  EXPECT_EQ(job_of(s.data_dir(), corrupt).state, "failed");
  EXPECT_EQ(job_of(s.data_dir(), corrupt).attempts, 1);
  EXPECT_EQ(job_of(s.data_dir(), audio_only).attempts, 1);
  EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + corrupt + "/video", a.token).status(), 409);
  fs::remove_all(scratch());
}

TEST(processing, job_survives_kill_9_of_the_server) {
  fs::create_directories(scratch());
  auto clip = make_clip((scratch() / "k.mp4").string(), {.seconds = 20, .width = 640, .height = 360});
  server_process s({"--job-lease-ms", "1500"});
  auto a = register_account(s.port(), "k@example.com", "K");
  auto id = upload_clip(s.port(), a, clip, "video/mp4");
  wait_for_stage(s.port(), a.token, id, "hls");
  std::string data = s.data_dir();
  EXPECT_EQ(s.stop(SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(job_of(data, id).state, "running");  // orphaned, its lease running out
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(shell("pgrep -f '[v]ideos/" + id + "/original' | wc -l"), "0\n");  // ffmpeg died with the server
  server_process again({"--data-dir", data, "--job-lease-ms", "1500"});
  auto v = wait_for_processing(again.port(), a.token, id);
  EXPECT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_EQ(job_of(data, id).state, "succeeded");
  EXPECT_EQ(job_of(data, id).attempts, 2);
  fs::remove_all(scratch());
}

TEST(processing, reel_worker_process_takes_over_after_kill_9) {
  fs::create_directories(scratch());
  auto clip = make_clip((scratch() / "w.mp4").string(), {.seconds = 20, .width = 640, .height = 360});
  server_process s({"--workers", "0", "--job-lease-ms", "1500"});  // the API only
  auto a = register_account(s.port(), "w@example.com", "W");
  auto id = upload_clip(s.port(), a, clip, "video/mp4");
  auto start_worker = [&](const std::string& log) {
    std::string cmd = "env -u REEL_WORKERS " + reel_binary() + " worker --data-dir '" + s.data_dir() +
                      "' --job-lease-ms 1500 >" + log + " 2>&1 & echo $!";
    return std::stoi(shell(cmd));
  };
  int first = start_worker((scratch() / "w1.log").string());
  wait_for_stage(s.port(), a.token, id, "hls");
  ::kill(first, SIGKILL);
  int second = start_worker((scratch() / "w2.log").string());
  auto v = wait_for_processing(s.port(), a.token, id);
  EXPECT_EQ(v.at("status"), "ready") << json::serialize(v);
  EXPECT_EQ(job_of(s.data_dir(), id).attempts, 2);
  ::kill(second, SIGTERM);
  for (int i = 0; i < 100 && ::kill(second, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_NE(::kill(second, 0), 0);  // a SIGTERM'd worker exits
  EXPECT_NE(read_file(scratch() / "w2.log").find("video ready"), std::string::npos);
  fs::remove_all(scratch());
}

TEST(processing, delete_during_processing_stops_ffmpeg_and_leaves_nothing) {
  fs::create_directories(scratch());
  auto clip = make_clip((scratch() / "d.mp4").string(), {.seconds = 20, .width = 640, .height = 360});
  server_process s;
  auto a = register_account(s.port(), "d@example.com", "D");
  auto id = upload_clip(s.port(), a, clip, "video/mp4");
  wait_for_stage(s.port(), a.token, id, "hls");
  EXPECT_EQ(shell("pgrep -f '[v]ideos/" + id + "/original' | wc -l"), "1\n");
  EXPECT_EQ(call(s.port(), "DELETE", "/api/videos/" + id, a.token).status(), 204);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(shell("pgrep -f '[v]ideos/" + id + "/original' | wc -l"), "0\n");
  EXPECT_FALSE(fs::exists(video_dir(s, a, id)));
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + id, a.token).status(), 404);
  EXPECT_TRUE(s.wait_for_log("job cancelled"));
  fs::remove_all(scratch());
}

TEST(processing, thumbnails_on_demand_share_one_ffmpeg_run_and_check_their_parameters) {
  server_process s({"--metrics-token", "test-metrics-token"});
  auto a = register_account(s.port(), "t@example.com", "T");
  fs::create_directories(scratch());
  auto id = upload_clip(s.port(), a, make_clip((scratch() / "t.mp4").string()), "video/mp4");
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  auto renders = [&] {
    auto body = call(s.port(), "GET", "/metrics", "test-metrics-token").raw.body();
    auto at = body.find("\nreel_thumbnail_renders_total ");
    return std::stoi(body.substr(at + 30));
  };
  int before = renders();
  std::vector<std::future<api_reply>> replies;
  for (int i = 0; i < 10; ++i)
    replies.push_back(std::async(std::launch::async, [&] {
      return call(s.port(), "GET", "/api/stream/" + id + "/thumbnail.jpg?time=1.5&width=160", a.token);
    }));
  std::string first;
  for (auto& f : replies) {
    auto r = f.get();
    ASSERT_EQ(r.status(), 200) << r.raw.body();
    EXPECT_EQ(r.header("Content-Type"), "image/jpeg");
    if (first.empty()) first = r.raw.body();
    EXPECT_EQ(r.raw.body(), first);
  }
  EXPECT_EQ(renders() - before, 1);
  EXPECT_EQ(shell("ffprobe -v error -show_entries stream=width -of csv=p=0 '" +
                  (video_dir(s, a, id) / "thumbs/t1500_w160.jpg").string() + "'"),
            "160\n");
  // Cached: asking again renders nothing.
  EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/thumbnail.jpg?time=1.5&width=160", a.token).status(), 200);
  EXPECT_EQ(renders() - before, 1);
  for (const char* bad : {"time=-1", "time=abc", "width=8", "width=5000", "width=1e3", "time="})
    EXPECT_EQ(call(s.port(), "GET", "/api/stream/" + id + "/thumbnail.jpg?" + bad, a.token).status(), 400) << bad;
  fs::remove_all(scratch());
}

TEST(processing, reprocess_runs_again_and_refuses_while_busy) {
  server_process s;
  auto a = register_account(s.port(), "re@example.com", "Re");
  fs::create_directories(scratch());
  auto id = upload_clip(s.port(), a, make_clip((scratch() / "re.mp4").string()), "video/mp4");
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  auto r = call(s.port(), "POST", "/api/videos/" + id + "/reprocess", a.token);
  ASSERT_EQ(r.status(), 202) << r.raw.body();
  EXPECT_EQ(r.json.at("video").at("status"), "queued");
  auto busy = call(s.port(), "POST", "/api/videos/" + id + "/reprocess", a.token);
  EXPECT_EQ(busy.status(), 409);
  EXPECT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  EXPECT_EQ(call(s.port(), "POST", "/api/videos/nope/reprocess", a.token).status(), 404);
  fs::remove_all(scratch());
}
