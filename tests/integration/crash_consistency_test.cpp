// Crash consistency against the real binary: the process dies (_exit(137),
// REEL_TEST_CRASH_AT) between the file and the row steps of each operation
// that writes both; restarted, its reconciliation sweep leaves nothing
// behind (no directory without a row, no row without its file) and the API
// agrees. Also the sweep's other repairs, and several processes on one
// data directory never removing each other's uploads in progress.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace reel::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A server armed to crash at `point`, not processing (the rows stay put).
std::unique_ptr<server_process> armed(const std::string& point, std::vector<std::string> args = {}) {
  args.insert(args.end(), {"--workers", "0"});
  return std::make_unique<server_process>(args, std::map<std::string, std::string>{{"REEL_TEST_CRASH_AT", point}});
}

// The server started again on `data`, sweeping at once with no grace
// period (nothing is in flight), and done with its first sweep.
std::unique_ptr<server_process> restarted(const std::string& data, std::vector<std::string> args = {}) {
  args.insert(args.end(), {"--data-dir", data, "--workers", "0", "--reconcile-grace-seconds", "0"});
  auto s = std::make_unique<server_process>(args);
  if (!s->wait_for_log("reconciliation done", 10s)) throw std::runtime_error("no sweep: " + s->log());
  return s;
}

// Sends `request`; the server dies before it answers.
void send_and_expect_crash(server_process& s, const std::string& request, const std::string& point) {
  connection c(s.port());
  c.write(request);
  EXPECT_TRUE(s.wait_for_log("crashing at " + point, 10s)) << s.log();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(s.stop(SIGKILL), 137);  // already gone: _exit(137)
}

std::string raw_upload_request(const account& a, const std::string& bytes) {
  return "POST /api/videos?title=crash HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token +
         "\r\nContent-Type: video/mp4\r\nContent-Length: " + std::to_string(bytes.size()) + "\r\n\r\n" + bytes;
}

std::string tus_create_request(const account& a, std::size_t length) {
  return "POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token +
         "\r\nTus-Resumable: 1.0.0\r\nUpload-Length: " + std::to_string(length) + "\r\nContent-Length: 0\r\n\r\n";
}

fs::path videos_dir(const std::string& data, const account& a) { return fs::path(data) / "orgs" / a.org_id / "videos"; }

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  return out;
}

std::size_t listed_videos(unsigned short port, const account& a) {
  auto r = call(port, "GET", "/api/videos", a.token);
  return r.status() == 200 ? r.json.at("videos").as_array().size() : 999;
}

std::string status_of(unsigned short port, const account& a, const std::string& id) {
  auto r = call(port, "GET", "/api/videos/" + id, a.token);
  return r.status() == 200 ? std::string(r.json.at("video").at("status").as_string()) : std::to_string(r.status());
}

std::string uploaded_video(unsigned short port, const account& a, const std::string& bytes) {
  auto r = call(port, "POST", "/api/videos?title=t", a.token, bytes, {{"Content-Type", "video/mp4"}});
  if (r.status() != 201) throw std::runtime_error("upload failed: " + r.raw.body());
  return std::string(r.json.at("video").at("id").as_string());
}

}  // namespace

TEST(crash_consistency, multipart_crash_after_the_file_is_placed_leaves_nothing_after_the_sweep) {
  auto s = armed("video-add:before-row");
  auto a = register_account(s->port(), "c1@example.com", "C");
  std::string data = s->data_dir();
  send_and_expect_crash(*s, raw_upload_request(a, random_bytes(300'000, 1)), "video-add:before-row");
  ASSERT_EQ(names_in(videos_dir(data, a)).size(), 1u);  // the window: a file without its row

  auto again = restarted(data);
  EXPECT_TRUE(again->wait_for_log("video directory without a row removed"));
  EXPECT_TRUE(names_in(videos_dir(data, a)).empty());
  EXPECT_EQ(listed_videos(again->port(), a), 0u);
}

TEST(crash_consistency, multipart_crash_before_the_file_is_placed_leaves_no_scratch_file) {
  auto s = armed("video-add:before-file");
  auto a = register_account(s->port(), "c2@example.com", "C");
  std::string data = s->data_dir();
  send_and_expect_crash(*s, raw_upload_request(a, random_bytes(300'000, 2)), "video-add:before-file");
  auto scratch = names_in(fs::path(data) / "tmp");
  ASSERT_EQ(scratch.size(), 1u);
  EXPECT_EQ(names_in(fs::path(data) / "tmp" / scratch[0]).size(), 2u);  // the lock and the upload

  auto again = restarted(data);
  auto now = names_in(fs::path(data) / "tmp");
  ASSERT_EQ(now.size(), 1u);  // the new process's own only
  EXPECT_NE(now[0], scratch[0]);
  EXPECT_TRUE(names_in(videos_dir(data, a)).empty());
  EXPECT_EQ(listed_videos(again->port(), a), 0u);
}

TEST(crash_consistency, tus_creation_crash_before_the_rows_leaves_nothing_after_the_sweep) {
  auto s = armed("upload-create:before-row");
  auto a = register_account(s->port(), "c3@example.com", "C");
  std::string data = s->data_dir();
  send_and_expect_crash(*s, tus_create_request(a, 5000), "upload-create:before-row");
  ASSERT_EQ(names_in(videos_dir(data, a)).size(), 1u);

  auto again = restarted(data);
  EXPECT_TRUE(names_in(videos_dir(data, a)).empty());
  EXPECT_EQ(listed_videos(again->port(), a), 0u);
}

TEST(crash_consistency, delete_crash_after_the_row_leaves_nothing_after_the_sweep) {
  auto s = armed("video-delete:before-files");
  auto a = register_account(s->port(), "c4@example.com", "C");
  std::string data = s->data_dir();
  std::string kept = uploaded_video(s->port(), a, random_bytes(1000, 3));
  std::string id = uploaded_video(s->port(), a, random_bytes(1000, 4));
  send_and_expect_crash(
      *s, "DELETE /api/videos/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token + "\r\n\r\n",
      "video-delete:before-files");
  ASSERT_TRUE(fs::exists(videos_dir(data, a) / id));

  auto again = restarted(data);
  EXPECT_FALSE(fs::exists(videos_dir(data, a) / id));
  EXPECT_EQ(status_of(again->port(), a, id), "404");
  EXPECT_EQ(status_of(again->port(), a, kept), "queued");  // the other video is untouched
  EXPECT_EQ(read_file(videos_dir(data, a) / kept / "original"), random_bytes(1000, 3));
  EXPECT_EQ(names_in(videos_dir(data, a)).size(), 1u);
}

TEST(crash_consistency, tus_termination_crash_after_the_rows_leaves_nothing_after_the_sweep) {
  auto s = armed("upload-delete:before-files");
  auto a = register_account(s->port(), "c5@example.com", "C");
  std::string data = s->data_dir();
  auto made = call(s->port(), "POST", "/api/uploads", a.token, "", tus({{"Upload-Length", "5000"}}));
  ASSERT_EQ(made.status(), 201);
  std::string location = made.header("Location"), id = made.header("X-Video-Id");
  auto patched = call(s->port(), "PATCH", location, a.token, random_bytes(1000, 5),
                      tus({{"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}}));
  ASSERT_EQ(patched.status(), 204);
  send_and_expect_crash(*s,
                        "DELETE " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + a.token +
                            "\r\nTus-Resumable: 1.0.0\r\n\r\n",
                        "upload-delete:before-files");
  ASSERT_TRUE(fs::exists(videos_dir(data, a) / id));

  auto again = restarted(data);
  EXPECT_FALSE(fs::exists(videos_dir(data, a) / id));
  EXPECT_EQ(status_of(again->port(), a, id), "404");
  EXPECT_EQ(call(again->port(), "HEAD", location, a.token, "", tus()).status(), 404);
}

TEST(crash_consistency, rows_whose_uploaded_file_is_gone_fail_in_words) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "c6@example.com", "C");
  std::string data = s.data_dir();
  std::string queued = uploaded_video(s.port(), a, random_bytes(1000, 6));
  auto made = call(s.port(), "POST", "/api/uploads", a.token, "", tus({{"Upload-Length", "5000"}}));
  ASSERT_EQ(made.status(), 201);
  std::string location = made.header("Location"), uploading = made.header("X-Video-Id");
  std::string intact = uploaded_video(s.port(), a, random_bytes(1000, 7));
  EXPECT_EQ(s.stop(SIGTERM), 0);
  fs::remove(videos_dir(data, a) / queued / "original");
  fs::remove(videos_dir(data, a) / uploading / "original");

  auto again = restarted(data);
  for (const auto& id : {queued, uploading}) {
    auto r = call(again->port(), "GET", "/api/videos/" + id, a.token);
    ASSERT_EQ(r.status(), 200);
    EXPECT_EQ(r.json.at("video").at("status"), "failed");
    EXPECT_NE(std::string(r.json.at("video").at("error").as_string()).find("uploaded file is missing"),
              std::string::npos);
  }
  EXPECT_EQ(call(again->port(), "HEAD", location, a.token, "", tus()).status(), 404);  // no resuming a lost file
  EXPECT_EQ(status_of(again->port(), a, intact), "queued");
  EXPECT_TRUE(again->wait_for_log("video failed: its uploaded file is missing"));
}

TEST(crash_consistency, the_sweep_waits_the_grace_period_and_removes_stale_work_directories) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "c7@example.com", "C");
  std::string data = s.data_dir();
  std::string id = uploaded_video(s.port(), a, random_bytes(1000, 8));
  EXPECT_EQ(s.stop(SIGTERM), 0);
  auto vids = videos_dir(data, a);
  auto old = fs::file_time_type::clock::now() - 2h;
  fs::create_directories(vids / "oldOrphan1");
  fs::last_write_time(vids / "oldOrphan1", old);
  fs::create_directories(vids / "freshOrphan1");  // a creation in flight, as far as anyone can tell
  fs::create_directories(vids / id / "work-deadJob1");
  fs::last_write_time(vids / id / "work-deadJob1", old);

  server_process again({"--data-dir", data, "--workers", "0"});  // the default grace period, an hour
  ASSERT_TRUE(again.wait_for_log("reconciliation done", 10s));
  EXPECT_FALSE(fs::exists(vids / "oldOrphan1"));
  EXPECT_TRUE(fs::exists(vids / "freshOrphan1"));
  EXPECT_FALSE(fs::exists(vids / id / "work-deadJob1"));
  EXPECT_TRUE(fs::exists(vids / id / "original"));
  EXPECT_EQ(status_of(again.port(), a, id), "queued");
}

TEST(crash_consistency, the_sweep_runs_periodically_too) {
  server_process s({"--workers", "0", "--reconcile-interval-seconds", "1", "--reconcile-grace-seconds", "0"});
  auto a = register_account(s.port(), "c8@example.com", "C");
  ASSERT_TRUE(s.wait_for_log("reconciliation done", 10s));
  std::string id = uploaded_video(s.port(), a, random_bytes(1000, 9));
  fs::remove(videos_dir(s.data_dir(), a) / id / "original");
  for (int i = 0; i < 60 && status_of(s.port(), a, id) != "failed"; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(status_of(s.port(), a, id), "failed");
}

TEST(crash_consistency, a_ready_video_whose_outputs_are_gone_is_processed_again) {
  server_process s;
  auto a = register_account(s.port(), "c9@example.com", "C");
  std::string data = s.data_dir();
  std::string clip = make_clip(data + "/../clip.mp4", {.seconds = 1, .width = 160, .height = 120});
  std::string id = uploaded_video(s.port(), a, clip);
  ASSERT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  EXPECT_EQ(s.stop(SIGTERM), 0);
  fs::remove(videos_dir(data, a) / id / "video.mp4");

  server_process again({"--data-dir", data, "--reconcile-grace-seconds", "0"});
  ASSERT_TRUE(again.wait_for_log("video processed again: its outputs are missing", 10s));
  EXPECT_EQ(wait_for_processing(again.port(), a.token, id).at("status"), "ready");
  EXPECT_TRUE(fs::exists(videos_dir(data, a) / id / "video.mp4"));
}

TEST(crash_consistency, restarting_one_of_two_processes_keeps_the_others_upload_in_progress) {
  server_process first({"--workers", "0"});
  auto a = register_account(first.port(), "c10@example.com", "C");
  std::string data = first.data_dir();
  auto second = std::make_unique<server_process>(std::vector<std::string>{"--data-dir", data, "--workers", "0"});
  std::string bytes = random_bytes(3'000'000, 10);
  connection c(first.port());
  c.write(raw_upload_request(a, bytes).substr(0, 2'000'000));  // in progress on the first process
  std::this_thread::sleep_for(300ms);                          // (let it reach the disk)
  // The second one dies hard and starts again: its start-up cleans up.
  EXPECT_EQ(second->stop(SIGKILL), 128 + SIGKILL);
  second = std::make_unique<server_process>(
      std::vector<std::string>{"--data-dir", data, "--workers", "0", "--reconcile-grace-seconds", "0"});
  ASSERT_TRUE(second->wait_for_log("reconciliation done", 10s));
  EXPECT_TRUE(second->wait_for_log("removed unfinished uploads of processes that are gone"));  // the killed one's
  EXPECT_EQ(names_in(fs::path(data) / "tmp").size(), 2u);  // the two live processes'

  c.write(raw_upload_request(a, bytes).substr(2'000'000));
  auto res = c.read_response();
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto v = boost::json::parse(res.body());
  std::string id(v.at("video").at("id").as_string());
  EXPECT_EQ(read_file(videos_dir(data, a) / id / "original"), bytes);
  EXPECT_EQ(status_of(second->port(), a, id), "queued");
}

TEST(crash_consistency, processes_sweeping_one_data_directory_at_once_repair_each_thing_once) {
  server_process s({"--workers", "0"});  // (its directory holds the data directory: it stays until the end)
  auto a = register_account(s.port(), "c11@example.com", "C");
  std::string data = s.data_dir();
  std::vector<std::string> ids;
  for (unsigned i = 0; i < 3; ++i) ids.push_back(uploaded_video(s.port(), a, random_bytes(1000, 20 + i)));
  EXPECT_EQ(s.stop(SIGTERM), 0);
  for (const auto& id : ids) fs::remove(videos_dir(data, a) / id / "original");
  for (unsigned i = 0; i < 4; ++i) {
    auto orphan = videos_dir(data, a) / ("orphan" + std::to_string(i));
    fs::create_directories(orphan);
    std::ofstream(orphan / "original") << "lost";
  }
  std::vector<std::string> sweeping = {
      "--data-dir", data, "--workers", "0", "--reconcile-interval-seconds", "1", "--reconcile-grace-seconds", "0"};
  server_process one(sweeping), two(sweeping);
  std::this_thread::sleep_for(3s);  // several sweeps each, side by side
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  std::string logs = one.log() + two.log();
  EXPECT_GE(count(logs, "reconciliation done"), 4u);
  EXPECT_EQ(count(logs, "reconciliation failed"), 0u) << logs;
  EXPECT_EQ(count(logs, "video failed: its uploaded file is missing"), 3u);  // each row once
  for (const auto& id : ids) EXPECT_EQ(status_of(one.port(), a, id), "failed");
  EXPECT_EQ(names_in(videos_dir(data, a)).size(), 3u);  // the orphans are gone, the rows' directories stay
}

TEST(crash_consistency, processing_crash_after_the_outputs_are_placed_is_finished_by_the_retry) {
  auto s = std::make_unique<server_process>(
      std::vector<std::string>{"--job-lease-ms", "1500"},
      std::map<std::string, std::string>{{"REEL_TEST_CRASH_AT", "job:outputs-placed"}});
  auto a = register_account(s->port(), "c12@example.com", "C");
  std::string data = s->data_dir();
  std::string clip = make_clip(data + "/../clip.mp4", {.seconds = 1, .width = 160, .height = 120});
  std::string id = uploaded_video(s->port(), a, clip);
  ASSERT_TRUE(s->wait_for_log("crashing at job:outputs-placed", 60s)) << s->log();
  EXPECT_EQ(s->stop(SIGKILL), 137);
  EXPECT_TRUE(fs::exists(videos_dir(data, a) / id / "video.mp4"));  // the window: outputs placed, row not ready

  server_process again({"--data-dir", data, "--job-lease-ms", "1500", "--reconcile-grace-seconds", "0"});
  EXPECT_EQ(wait_for_processing(again.port(), a.token, id).at("status"), "ready");
  for (const auto& name : names_in(videos_dir(data, a) / id)) EXPECT_FALSE(name.starts_with("work-")) << name;
  EXPECT_EQ(names_in(videos_dir(data, a)).size(), 1u);
  EXPECT_EQ(call(again.port(), "GET", "/api/stream/" + id + "/video", a.token).status(), 200);
}
