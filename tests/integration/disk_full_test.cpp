// A full disk against the real binary: the data directory on a small tmpfs
// that fills up for real (uploads, and a file standing for whatever else
// fills a disk). Uploads get 507 with API.md's body and leave nothing in
// tmp/; a tus PATCH keeps what was written and HEAD says where to resume;
// login, lists, streams and DELETE keep working, so space can be freed
// through the API; then uploads work again. Both backends (on PostgreSQL
// the files are still on the tmpfs). Needs root to mount (as in CI):
// skipped with the reason elsewhere.
#include "core/digest.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/tmpfs.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>

using namespace reel::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_mib = 1 << 20;

// A tus upload of `length` bytes; "" when creation was refused (its reply in `refused`).
std::pair<std::string, std::string> create_upload(unsigned short port, const std::string& token, std::size_t length,
                                                  api_reply* refused = nullptr) {
  auto r = call(port, "POST", "/api/uploads", token, "",
                tus({{"Upload-Length", std::to_string(length)},
                     {"Upload-Metadata", "filename " + reel::base64_encode("big.mp4")}}));
  if (r.status() != 201) {
    if (refused) *refused = r;
    return {};
  }
  return {r.header("Location"), r.header("X-Video-Id")};
}

api_reply raw_upload(unsigned short port, const std::string& token, const std::string& bytes) {
  return call(port, "POST", "/api/videos?title=big", token, bytes, {{"Content-Type", "application/octet-stream"}});
}

// A raw upload sent chunked (no Content-Length: nothing to refuse up front).
api_reply chunked_upload(unsigned short port, const std::string& token, const std::string& bytes) {
  connection c(port, 20s);
  std::string head = "POST /api/videos?title=chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                     "\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  try {
    c.write(head);
    for (std::size_t at = 0; at < bytes.size(); at += 256 * 1024) {
      std::string part = bytes.substr(at, 256 * 1024);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      c.write(size + part + "\r\n");
    }
    c.write("0\r\n\r\n");
  } catch (const std::exception&) {
    // The server answered before the end and stopped reading: its answer is there.
  }
  api_reply r{c.read_response(), nullptr};
  boost::system::error_code ec;
  r.json = boost::json::parse(r.raw.body(), ec);
  return r;
}

// Uploads in progress under tmp/ (in the process's scratch directory; its lock file is no upload).
std::size_t disk_full_files_in(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file() && it->path().filename() != ".lock") ++n;
  return n;
}

void expect_out_of_storage(const api_reply& r, const std::string& what) {
  EXPECT_EQ(r.status(), 507u) << what << ": " << r.raw.body();
  EXPECT_EQ(r.error_code(), "insufficient_storage") << what;
  if (r.json.is_object() && r.json.as_object().contains("error")) {
    EXPECT_EQ(r.json.at("error").at("message"), "The server is out of storage.") << what;
  }
}

class disk_full : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!volume_.mounted()) GTEST_SKIP() << volume_.why_not();
    data_ = (fs::path(volume_.dir()) / "data").string();
  }
  fs::path original_of(const account& a, const std::string& video_id) const {
    return fs::path(data_) / "orgs" / a.org_id / "videos" / video_id / "original";
  }

  tmpfs_mount volume_{64 * k_mib};
  std::string data_;
};

}  // namespace

TEST_F(disk_full, uploads_get_507_and_login_reads_and_delete_still_work_so_space_can_be_freed) {
  server_process s({"--data-dir", data_});
  auto a = register_account(s.port(), "full@example.com", "Full");
  std::string clip = make_clip((fs::path(volume_.dir()) / "clip.mp4").string());
  fs::remove(fs::path(volume_.dir()) / "clip.mp4");
  auto posted = upload(s.port(), a.token, clip);
  ASSERT_EQ(posted.status(), 201u) << posted.raw.body();
  std::string clip_id(posted.json.at("video").at("id").as_string());
  ASSERT_EQ(wait_for_processing(s.port(), a.token, clip_id).at("status"), "ready");
  EXPECT_TRUE(fs::exists(fs::path(data_) / "reserve")) << "the ballast is made at start";

  // Uploads until the volume's reserve is reached: then 507, up front.
  std::vector<std::string> big;
  // 6 MiB each: a refused body is still read and dropped (up to 8 MiB), so the client sees the answer.
  std::string six = random_bytes(6 * k_mib, 1);
  api_reply last;
  for (int i = 0; i < 12; ++i) {
    last = raw_upload(s.port(), a.token, six);
    if (last.status() != 201) break;
    big.emplace_back(last.json.at("video").at("id").as_string());
  }
  ASSERT_GE(big.size(), 6u);
  expect_out_of_storage(last, "an upload past the reserve");
  // Sent chunked, the same upload is refused while it arrives, and leaves nothing behind.
  expect_out_of_storage(chunked_upload(s.port(), a.token, six), "a chunked upload");
  api_reply refused;
  EXPECT_EQ(create_upload(s.port(), a.token, 8 * k_mib, &refused).first, "");
  expect_out_of_storage(refused, "a tus creation that cannot fit");
  EXPECT_EQ(disk_full_files_in(fs::path(data_) / "tmp"), 0u);

  // Something else fills the disk to the last byte.
  volume_.fill(fs::path(volume_.dir()) / "filler");
  ASSERT_LT(volume_.available(), 64u * 1024);
  auto login = call_json(s.port(), "POST", "/api/auth/login", "", {{"email", a.email}, {"password", "correct horse"}});
  ASSERT_EQ(login.status(), 200u) << login.raw.body();
  std::string token(login.json.at("token").as_string());
  auto list = call(s.port(), "GET", "/api/videos", token);
  EXPECT_EQ(list.status(), 200u) << list.raw.body();
  auto stream = call(s.port(), "GET", "/api/stream/" + clip_id + "/video", token, "", {{"Range", "bytes=0-99"}});
  EXPECT_EQ(stream.status(), 206u);
  EXPECT_EQ(stream.raw.body().size(), 100u);
  auto hls = call(s.port(), "GET", "/api/stream/" + clip_id + "/hls/master.m3u8", token);
  EXPECT_EQ(hls.status(), 200u);
  expect_out_of_storage(upload(s.port(), token, random_bytes(100'000, 2)), "an upload on a full disk");
  // A full node stays in a balancer's rotation: it still serves, and frees space.
  auto ready = call(s.port(), "GET", "/readyz");
  EXPECT_EQ(ready.status(), 200u) << ready.raw.body();

  // Space is freed through the API; then uploads work again.
  for (const auto& id : big) {
    auto gone = call(s.port(), "DELETE", "/api/videos/" + id, token);
    EXPECT_EQ(gone.status(), 204u) << gone.raw.body();
  }
  EXPECT_GT(volume_.available(), 25 * k_mib);
  auto again = upload(s.port(), token, random_bytes(2 * k_mib, 3));
  EXPECT_EQ(again.status(), 201u) << again.raw.body();
  // The ballast given up for the database (SQLite on the full disk) is made again.
  if (s.log().find("storage ballast was given up") != std::string::npos) {
    EXPECT_TRUE(s.wait_for_log("storage ballast was made again", 15s)) << s.log();
  }
  EXPECT_TRUE(fs::exists(fs::path(data_) / "reserve"));
  EXPECT_EQ(s.log().find("ERROR request failed"), std::string::npos) << s.log();
  EXPECT_EQ(s.log().find("ERROR unhandled exception"), std::string::npos) << s.log();
}

TEST_F(disk_full, a_tus_patch_stopped_by_the_reserve_keeps_what_was_written_and_resumes_byte_identical) {
  server_process s({"--data-dir", data_, "--workers", "0"});
  auto a = register_account(s.port(), "tus@example.com", "Tus");
  std::string bytes = random_bytes(10 * k_mib, 4);
  auto [location, video_id] = create_upload(s.port(), a.token, bytes.size());
  ASSERT_FALSE(location.empty());
  // Others' files leave about 6 MiB above the reserve.
  std::uint64_t reserve = 4 * k_mib;
  volume_.fill(fs::path(volume_.dir()) / "filler", volume_.available() - reserve - 6 * k_mib);

  expect_out_of_storage(patch(s.port(), a.token, location, 0, bytes), "a PATCH past the reserve");
  std::string offset = offset_of(s.port(), a.token, location);
  ASSERT_FALSE(offset.starts_with("HEAD")) << offset;
  std::size_t stored = std::stoul(offset);
  EXPECT_GE(stored, 4 * k_mib);
  EXPECT_LE(stored, 6 * k_mib);
  EXPECT_EQ(read_file(original_of(a, video_id)), bytes.substr(0, stored));

  fs::remove(fs::path(volume_.dir()) / "filler");  // space returns
  auto rest = patch(s.port(), a.token, location, stored, bytes.substr(stored));
  EXPECT_EQ(rest.status(), 204u) << rest.raw.body();
  EXPECT_EQ(read_file(original_of(a, video_id)), bytes);
}

TEST_F(disk_full, a_tus_patch_on_a_volume_full_to_the_last_byte_keeps_what_was_written) {
  // No reserve: the writes run into ENOSPC itself (std::system_error from
  // pwrite), and the offset is recorded even if the database needs the ballast.
  server_process s({"--data-dir", data_, "--workers", "0"}, {{"REEL_STORAGE_RESERVE_BYTES", "0"}});
  auto a = register_account(s.port(), "enospc@example.com", "Enospc");
  std::string bytes = random_bytes(10 * k_mib, 5);
  auto [location, video_id] = create_upload(s.port(), a.token, bytes.size());
  ASSERT_FALSE(location.empty());
  volume_.fill(fs::path(volume_.dir()) / "filler", volume_.available() - 5 * k_mib - 300 * 1024);

  expect_out_of_storage(patch(s.port(), a.token, location, 0, bytes), "a PATCH that meets ENOSPC");
  std::string offset = offset_of(s.port(), a.token, location);
  ASSERT_FALSE(offset.starts_with("HEAD")) << offset;
  std::size_t stored = std::stoul(offset);
  EXPECT_GE(stored, 4 * k_mib);
  EXPECT_LE(stored, 5 * k_mib + 300 * 1024);
  EXPECT_EQ(read_file(original_of(a, video_id)), bytes.substr(0, stored));
  // A chunked upload meets ENOSPC too: 507, and its temp file goes.
  expect_out_of_storage(chunked_upload(s.port(), a.token, random_bytes(6 * k_mib, 6)), "a chunked upload");
  EXPECT_EQ(disk_full_files_in(fs::path(data_) / "tmp"), 0u);
  EXPECT_TRUE(s.wait_for_log("request failed: out of storage")) << "the 507s came from ENOSPC itself";

  fs::remove(fs::path(volume_.dir()) / "filler");
  auto rest = patch(s.port(), a.token, location, stored, bytes.substr(stored));
  EXPECT_EQ(rest.status(), 204u) << rest.raw.body();
  EXPECT_EQ(read_file(original_of(a, video_id)), bytes);
  auto v = call(s.port(), "GET", "/api/videos/" + video_id, a.token);
  EXPECT_EQ(v.json.at("video").at("status"), "queued");
}
