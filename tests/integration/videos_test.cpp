// docs/API.md "Videos" and "Streaming", end to end against the real binary.
#include "core/digest.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include "db/database.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::size_t videos_count_rows(const std::string& data_dir, const std::string& sql) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  std::size_t n = 0;
  db->transact(false, [&](reel::db::transaction& s) { n = static_cast<std::size_t>(s.query_one(sql)->int64(0)); });
  return n;
}

// A server with one organization: an owner who uploads and a viewer.
struct videos_library {
  server_process server;
  account owner, viewer, stranger;
  explicit videos_library(std::vector<std::string> args = {}) : server(std::move(args)) {
    owner = register_account(server.port(), "owner@example.com", "Acme");
    viewer = register_account(server.port(), "viewer@example.com", "V");
    stranger = register_account(server.port(), "stranger@example.com", "Elsewhere");
    invite_and_accept(server.port(), owner, owner.org_id, viewer, "viewer");
  }
  unsigned short port() const { return server.port(); }
  fs::path video_dir(const std::string& id) const {
    return fs::path(server.data_dir()) / "orgs" / owner.org_id / "videos" / id;
  }
};

}  // namespace

TEST(videos, multipart_upload_is_stored_and_queued_with_its_job) {
  videos_library lib({"--workers", "0"});  // the job stays queued for us to see
  std::string bytes = random_bytes(300'000, 1);
  auto r = upload(lib.port(), lib.owner.token, bytes, {{"title", "Launch"}, {"description", "First cut"}});
  ASSERT_EQ(r.status(), 201) << r.raw.body();
  const auto& v = r.json.at("video");
  EXPECT_EQ(v.at("title"), "Launch");
  EXPECT_EQ(v.at("description"), "First cut");
  EXPECT_EQ(v.at("status"), "queued");
  EXPECT_EQ(v.at("organizationId").as_string(), lib.owner.org_id);
  EXPECT_EQ(v.at("originalFilename"), "clip.mp4");
  EXPECT_EQ(v.at("sizeBytes").to_number<std::int64_t>(), 300'000);
  EXPECT_EQ(v.at("createdBy").as_string(), lib.owner.user_id);
  EXPECT_TRUE(v.at("progress").is_null());
  EXPECT_TRUE(v.at("streamUrl").is_null());
  EXPECT_EQ(r.header("Location"), "/api/videos/" + id_of(r));
  EXPECT_EQ(read_file(lib.video_dir(id_of(r)) / "original"), bytes);
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(),
                              "SELECT COUNT(*) FROM jobs WHERE kind = 'process_video' AND state = 'queued'"),
            1u);
  EXPECT_EQ(files_in(fs::path(lib.server.data_dir()) / "tmp"), 0u);
}

TEST(videos, curl_uploads_multipart_and_reads_ranges_once_ready) {
  videos_library lib;
  fs::path dir = fs::path(lib.server.data_dir()).parent_path();
  make_clip((dir / "in.mp4").string());
  std::string base = "http://127.0.0.1:" + std::to_string(lib.port());
  std::string auth = "-H 'Authorization: Bearer " + lib.owner.token + "' ";
  std::string cmd = "curl -sf " + auth + "-F 'file=@" + (dir / "in.mp4").string() +
                    ";type=video/mp4' -F title=FromCurl " + base + "/api/videos -o " + (dir / "up.json").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto id = std::string(json::parse(read_file(dir / "up.json")).at("video").at("id").as_string());
  // Not playable until processed.
  EXPECT_EQ(call(lib.port(), "GET", "/api/stream/" + id + "/video", lib.owner.token).status(), 409);
  ASSERT_EQ(wait_for_processing(lib.port(), lib.owner.token, id).at("status"), "ready");
  cmd = "curl -sf " + auth + "-r 1000-1999 " + base + "/api/stream/" + id + "/video -o " + (dir / "part.bin").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(read_file(dir / "part.bin"), read_file(lib.video_dir(id) / "video.mp4").substr(1000, 1000));
}

TEST(videos, raw_upload_takes_title_and_filename_from_the_query) {
  videos_library lib;
  std::string bytes = random_bytes(50'000, 3);
  auto r = call(lib.port(), "POST", "/api/videos?title=Raw%20one&filename=holiday.mov", lib.owner.token, bytes,
                {{"Content-Type", "video/quicktime"}});
  ASSERT_EQ(r.status(), 201) << r.raw.body();
  EXPECT_EQ(r.json.at("video").at("title"), "Raw one");
  EXPECT_EQ(r.json.at("video").at("originalFilename"), "holiday.mov");
  EXPECT_EQ(read_file(lib.video_dir(id_of(r)) / "original"), bytes);
  auto untitled =
      call(lib.port(), "POST", "/api/videos", lib.owner.token, bytes, {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(untitled.status(), 201);
  EXPECT_EQ(untitled.json.at("video").at("title"), "Untitled");
}

// A raw body is read from the socket straight into the upload's batches: to
// its Content-Length and not a byte further, so that a request pipelined
// behind it on the connection is served intact (here the body spans two
// 4 MiB batches and the next request arrives in the same write).
TEST(videos, a_raw_upload_reads_to_its_length_and_the_next_request_on_the_connection_is_served) {
  videos_library lib;
  std::string bytes = random_bytes((5 << 20) + 12'345, 7);
  connection c(lib.port(), 30s);
  c.write("POST /api/videos?title=Piped HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib.owner.token +
          "\r\nContent-Type: video/mp4\r\nContent-Length: " + std::to_string(bytes.size()) + "\r\n\r\n" + bytes +
          "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: behind-the-upload\r\n\r\n");
  auto created = c.read_response();
  ASSERT_EQ(created.result_int(), 201) << created.body();
  auto next = c.read_response();
  EXPECT_EQ(next.result_int(), 200);
  EXPECT_EQ(next["X-Request-Id"], "behind-the-upload");
  EXPECT_EQ(next.body(), R"({"status":"ok"})");
  std::string id(json::parse(created.body()).at("video").at("id").as_string());
  EXPECT_EQ(read_file(lib.video_dir(id) / "original"), bytes);
}

TEST(videos, bad_uploads_are_refused_and_leave_nothing) {
  videos_library lib;
  auto p = lib.port();
  auto empty = upload(p, lib.owner.token, "");
  EXPECT_EQ(empty.status(), 400);
  EXPECT_NE(empty.raw.body().find("empty"), std::string::npos);
  EXPECT_EQ(call(p, "POST", "/api/videos", lib.owner.token, "", {{"Content-Type", "video/mp4"}}).status(), 400);
  auto no_file = call(p, "POST", "/api/videos", lib.owner.token,
                      "--b\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--b--\r\n",
                      {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(no_file.status(), 400);
  EXPECT_NE(no_file.raw.body().find("file"), std::string::npos);
  auto truncated = call(p, "POST", "/api/videos", lib.owner.token,
                        "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
                        {{"Content-Type", "multipart/form-data; boundary=b"}});
  EXPECT_EQ(truncated.status(), 400);
  EXPECT_EQ(call(p, "POST", "/api/videos", lib.owner.token, "abc", {{"Content-Type", "text/plain"}}).status(), 415);
  auto as_viewer = call(p, "POST", "/api/videos", lib.viewer.token, "abc",
                        {{"Content-Type", "video/mp4"}, {"X-Organization-Id", lib.owner.org_id}});
  EXPECT_EQ(as_viewer.status(), 403);
  EXPECT_EQ(upload(p, "", "abc").status(), 401);
  auto long_title = upload(p, lib.owner.token, "abc", {{"title", std::string(300, 't')}});
  EXPECT_EQ(long_title.status(), 400);
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(), "SELECT COUNT(*) FROM videos"), 0u);
  EXPECT_EQ(files_in(fs::path(lib.server.data_dir()) / "tmp"), 0u);
}

TEST(videos, text_that_is_not_valid_utf8_or_holds_bidi_overrides_is_refused_wherever_it_enters) {
  videos_library lib;
  auto p = lib.port();
  const std::string bad_texts[] = {
      "caf\xe9",           // Latin-1, not UTF-8
      "\xc0\xaf",          // overlong "/"
      "\xed\xa0\x80",      // a UTF-16 surrogate
      "\xf4\x90\x80\x80",  // past U+10FFFF
      "x\xe2\x80\xae"
      "gpj.exe",         // U+202E RIGHT-TO-LEFT OVERRIDE
      "x\xe2\x81\xa6y",  // U+2066 LEFT-TO-RIGHT ISOLATE
      "x\xc2\x85y",      // U+0085, a C1 control
  };
  for (const auto& text : bad_texts) {
    // Multipart fields.
    for (const char* field : {"title", "description"}) {
      auto r = upload(p, lib.owner.token, "abc", {{field, text}});
      EXPECT_EQ(r.status(), 400) << field << " " << text;
      EXPECT_EQ(r.error_code(), "bad_request");
      EXPECT_NE(r.raw.body().find(field), std::string::npos);
    }
    // The query of a raw upload.
    std::string escaped;
    for (unsigned char c : text) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      escaped += hex;
    }
    EXPECT_EQ(call(p, "POST", "/api/videos?title=" + escaped, lib.owner.token, "abc", {{"Content-Type", "video/mp4"}})
                  .status(),
              400)
        << text;
    // tus metadata.
    auto tus = call(p, "POST", "/api/uploads", lib.owner.token, "",
                    {{"Tus-Resumable", "1.0.0"},
                     {"Upload-Length", "10"},
                     {"Upload-Metadata", "title " + reel::base64_encode(text)}});
    EXPECT_EQ(tus.status(), 400) << text;
    // JSON (already refused by the parser or the field rules).
    EXPECT_EQ(call(p, "POST", "/api/orgs", lib.owner.token, "{\"name\":\"" + text + "\"}").status(), 400u) << text;
  }
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(), "SELECT COUNT(*) FROM videos"), 0u);
  // A file name is cleaned instead: the override is dropped, the rest kept.
  auto named = upload(p, lib.owner.token, "abc", {}, "clip\xe2\x80\xaegpj.mp4");
  ASSERT_EQ(named.status(), 201);
  EXPECT_EQ(named.json.at("video").at("originalFilename"), "clipgpj.mp4");
  // Ordinary non-ASCII text is fine, and the list stays valid JSON.
  EXPECT_EQ(
      upload(p, lib.owner.token, "abc", {{"title", "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xac"}}).status(),
      201);
  auto list = call(p, "GET", "/api/videos", lib.owner.token);
  ASSERT_TRUE(list.json.is_object());
  EXPECT_EQ(list.json.at("videos").as_array().size(), 2u);
}

TEST(videos, oversized_upload_is_413_at_once_or_mid_stream) {
  videos_library lib({"--max-upload-bytes", "100000"});
  // Declared too big: refused before a byte of the body is sent.
  connection c(lib.port());
  c.write("POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib.owner.token +
          "\r\nContent-Type: video/mp4\r\nContent-Length: 200000\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 413);
  // Chunked, so only discovered while streaming.
  connection d(lib.port());
  d.write("POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib.owner.token +
          "\r\nContent-Type: video/mp4\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = random_bytes(30000, 4);
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  try {
    for (int i = 0; i < 5; ++i) d.write(size_line + chunk + "\r\n");
  } catch (...) {
  }
  auto r2 = d.read_response();
  EXPECT_EQ(r2.result_int(), 413);
  EXPECT_NE(r2.body().find("payload_too_large"), std::string::npos);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(), "SELECT COUNT(*) FROM videos"), 0u);
  EXPECT_EQ(files_in(fs::path(lib.server.data_dir()) / "tmp"), 0u);
}

TEST(videos, client_that_disconnects_mid_upload_leaves_no_row_and_no_temp_file) {
  videos_library lib;
  {
    connection c(lib.port());
    c.write("POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib.owner.token +
            "\r\nContent-Type: video/mp4\r\nContent-Length: 5000000\r\n\r\n");
    c.write(random_bytes(2'000'000, 5));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(files_in(fs::path(lib.server.data_dir()) / "tmp"), 1u);  // in progress
  }                                                                    // closed mid-body
  bool cleaned = false;
  for (int i = 0; i < 50 && !cleaned; ++i) {
    std::this_thread::sleep_for(50ms);
    cleaned = files_in(fs::path(lib.server.data_dir()) / "tmp") == 0;
  }
  EXPECT_TRUE(cleaned);
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(), "SELECT COUNT(*) FROM videos"), 0u);
  EXPECT_EQ(request(lib.port(), "GET", "/healthz").result_int(), 200);
}

TEST(videos, odd_file_names_are_cleaned_and_never_reach_a_path) {
  videos_library lib;
  std::vector<std::pair<std::string, std::string>> cases = {
      {"vid\xc3\xa9o \xf0\x9f\x93\xb9.mp4", "vid\xc3\xa9o \xf0\x9f\x93\xb9.mp4"},
      {"../../../../etc/passwd", "passwd"},
      {"a/b\\\\c.mp4", "c.mp4"},
      {"..", "upload"},
      {std::string(1000, 'x') + ".mp4", std::string(255, 'x')},
      {"bad\xff\xfe.mp4", "bad.mp4"},
  };
  for (const auto& [given, stored] : cases) {
    auto r = upload(lib.port(), lib.owner.token, "abc", {}, given);
    ASSERT_EQ(r.status(), 201) << given << " " << r.raw.body();
    EXPECT_EQ(r.json.at("video").at("originalFilename").as_string(), stored);
    EXPECT_TRUE(fs::exists(lib.video_dir(id_of(r)) / "original"));
  }
  EXPECT_FALSE(fs::exists(fs::path(lib.server.data_dir()) / "etc"));
  EXPECT_FALSE(fs::exists(fs::path(lib.server.data_dir()).parent_path() / "etc"));
}

TEST(videos, concurrent_uploads_each_land_intact) {
  videos_library lib;
  std::vector<std::future<std::pair<std::string, std::string>>> uploads;
  for (unsigned i = 0; i < 8; ++i) {
    uploads.push_back(std::async(std::launch::async, [&lib, i] {
      std::string bytes = random_bytes(400'000 + i * 1000, 100 + i);
      auto r = upload(lib.port(), lib.owner.token, bytes, {{"title", "u" + std::to_string(i)}});
      return std::make_pair(r.status() == 201 ? id_of(r) : std::string(), bytes);
    }));
  }
  for (auto& f : uploads) {
    auto [id, bytes] = f.get();
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(read_file(lib.video_dir(id) / "original"), bytes);
  }
  auto list = call(lib.port(), "GET", "/api/videos?limit=100", lib.owner.token);
  EXPECT_EQ(list.json.at("videos").as_array().size(), 8u);
}

TEST(videos, list_is_newest_first_with_cursor_pages_and_filters) {
  videos_library lib({"--workers", "0"});  // nothing is processed: every video stays queued
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(id_of(upload(lib.port(), lib.owner.token, "abc", {{"title", "v" + std::to_string(i)}})));
    std::this_thread::sleep_for(3ms);
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = call(lib.port(), "GET", "/api/videos?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
                  lib.viewer.token, "", {{"X-Organization-Id", lib.owner.org_id}});
    ASSERT_EQ(r.status(), 200) << r.raw.body();
    for (auto& v : r.json.at("videos").as_array()) seen.emplace_back(v.at("id").as_string());
    cursor = r.json.at("nextCursor").is_null() ? "" : std::string(r.json.at("nextCursor").as_string());
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>(ids.rbegin(), ids.rend())));
  auto queued = call(lib.port(), "GET", "/api/videos?status=queued", lib.owner.token);
  EXPECT_EQ(queued.json.at("videos").as_array().size(), 5u);
  auto ready = call(lib.port(), "GET", "/api/videos?status=ready", lib.owner.token);
  EXPECT_EQ(ready.json.at("videos").as_array().size(), 0u);
  EXPECT_TRUE(ready.json.at("nextCursor").is_null());
  for (const char* bad : {"?status=done", "?limit=0", "?limit=101", "?limit=abc", "?cursor=zz", "?cursor=00ff"})
    EXPECT_EQ(call(lib.port(), "GET", std::string("/api/videos") + bad, lib.owner.token).status(), 400) << bad;
  // Another organization sees none of them.
  auto other = call(lib.port(), "GET", "/api/videos", lib.stranger.token);
  EXPECT_EQ(other.json.at("videos").as_array().size(), 0u);
}

TEST(videos, lists_show_every_change_at_once_despite_the_list_cache) {
  videos_library lib({"--workers", "0", "--list-cache-ms", "60000"});
  auto titles = [&] {
    std::vector<std::string> out;
    auto r = call(lib.port(), "GET", "/api/videos", lib.owner.token);
    for (auto& v : r.json.at("videos").as_array()) out.emplace_back(v.at("title").as_string());
    return out;
  };
  EXPECT_TRUE(titles().empty());
  auto id = id_of(upload(lib.port(), lib.owner.token, "abc", {{"title", "first"}}));
  EXPECT_EQ(titles(), std::vector<std::string>{"first"});
  EXPECT_EQ(call_json(lib.port(), "PATCH", "/api/videos/" + id, lib.owner.token, {{"title", "renamed"}}).status(), 200);
  EXPECT_EQ(titles(), std::vector<std::string>{"renamed"});
  EXPECT_EQ(call(lib.port(), "DELETE", "/api/videos/" + id, lib.owner.token).status(), 204);
  EXPECT_TRUE(titles().empty());
  // Another organization's list is its own, cached or not.
  upload(lib.port(), lib.stranger.token, "abc", {{"title", "theirs"}});
  EXPECT_TRUE(titles().empty());
}

TEST(videos, get_patch_delete_with_roles_and_tenant_isolation) {
  videos_library lib;
  std::string id = id_of(upload(lib.port(), lib.owner.token, "abcdef", {{"title", "Before"}}));
  std::string path = "/api/videos/" + id;
  auto viewer_headers = std::map<std::string, std::string>{{"X-Organization-Id", lib.owner.org_id}};
  EXPECT_EQ(call(lib.port(), "GET", path, lib.viewer.token, "", viewer_headers).status(), 200);
  auto patched = call_json(lib.port(), "PATCH", path, lib.owner.token, {{"title", "After"}});
  ASSERT_EQ(patched.status(), 200) << patched.raw.body();
  EXPECT_EQ(patched.json.at("video").at("title"), "After");
  EXPECT_EQ(patched.json.at("video").at("description"), "");
  EXPECT_EQ(call_json(lib.port(), "PATCH", path, lib.owner.token, json::object{}).status(), 400);
  EXPECT_EQ(call_json(lib.port(), "PATCH", path, lib.owner.token, {{"title", ""}}).status(), 400);
  EXPECT_EQ(call_json(lib.port(), "PATCH", path, lib.owner.token, {{"title", 5}}).status(), 400);
  auto viewer_patch = call_json(lib.port(), "PATCH", path, lib.viewer.token, {{"title", "X"}}, viewer_headers);
  EXPECT_EQ(viewer_patch.status(), 403);
  EXPECT_EQ(call(lib.port(), "DELETE", path, lib.viewer.token, "", viewer_headers).status(), 403);
  // Another tenant: 404 everywhere, as if it did not exist.
  EXPECT_EQ(call(lib.port(), "GET", path, lib.stranger.token).status(), 404);
  EXPECT_EQ(call_json(lib.port(), "PATCH", path, lib.stranger.token, {{"title", "Mine"}}).status(), 404);
  EXPECT_EQ(call(lib.port(), "DELETE", path, lib.stranger.token).status(), 404);
  EXPECT_EQ(call(lib.port(), "GET", "/api/stream/" + id + "/video", lib.stranger.token).status(), 404);
  EXPECT_EQ(call(lib.port(), "GET", path, lib.owner.token).json.at("video").at("title"), "After");
  // Delete removes the row and the files.
  EXPECT_TRUE(fs::exists(lib.video_dir(id)));
  EXPECT_EQ(call(lib.port(), "DELETE", path, lib.owner.token).status(), 204);
  EXPECT_FALSE(fs::exists(lib.video_dir(id)));
  EXPECT_EQ(call(lib.port(), "GET", path, lib.owner.token).status(), 404);
  EXPECT_EQ(call(lib.port(), "DELETE", path, lib.owner.token).status(), 404);
  EXPECT_EQ(videos_count_rows(lib.server.data_dir(), "SELECT COUNT(*) FROM jobs"), 0u);
  EXPECT_EQ(call(lib.port(), "GET", "/api/videos/..%2F..%2Fetc", lib.owner.token).status(), 404);
}

class streaming : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] {
      lib_ = new videos_library();
      auto clip = make_clip((fs::path(lib_->server.data_dir()).parent_path() / "clip.mp4").string());
      auto r = call(lib_->port(), "POST", "/api/videos", lib_->owner.token, clip, {{"Content-Type", "video/mp4"}});
      id_ = id_of(r);
      wait_for_processing(lib_->port(), lib_->owner.token, id_);
      bytes_ = read_file(lib_->video_dir(id_) / "video.mp4");
      n_ = bytes_.size();
      path_ = "/api/stream/" + id_ + "/video";
    });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  static api_reply get(std::map<std::string, std::string> headers, const std::string& method = "GET") {
    return call(lib_->port(), method, path_, lib_->owner.token, "", std::move(headers));
  }
  static std::string n(std::size_t v) { return std::to_string(v); }
  static inline videos_library* lib_ = nullptr;
  static inline std::string bytes_, id_, path_;
  static inline std::size_t n_ = 0;
};

TEST_F(streaming, whole_file_with_validators) {
  ASSERT_GT(n_, 2000u);
  auto r = get({});
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.raw.body(), bytes_);
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(r.header("Content-Length"), n(n_));
  EXPECT_EQ(r.header("Content-Type"), "video/mp4");
  EXPECT_EQ(r.header("ETag").front(), '"');
  EXPECT_FALSE(r.header("Last-Modified").empty());
}

TEST_F(streaming, every_range_form) {
  auto check = [](const std::string& range, std::size_t first, std::size_t len) {
    auto r = get({{"Range", range}});
    EXPECT_EQ(r.status(), 206) << range;
    EXPECT_EQ(r.header("Content-Range"), "bytes " + n(first) + "-" + n(first + len - 1) + "/" + n(n_)) << range;
    EXPECT_EQ(r.header("Content-Length"), n(len)) << range;
    EXPECT_EQ(r.raw.body(), bytes_.substr(first, len)) << range;
    EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
    EXPECT_FALSE(r.header("ETag").empty());
  };
  check("bytes=0-499", 0, 500);
  check("bytes=" + n(n_ - 500) + "-", n_ - 500, 500);
  check("bytes=-500", n_ - 500, 500);
  check("bytes=0-", 0, n_);  // what <video> sends first
  check("bytes=0-1", 0, 2);  // Safari's probe
  check("bytes=" + n(n_ - 1000) + "-" + n(n_ * 3), n_ - 1000, 1000);
  check("bytes=-" + n(n_ * 2), 0, n_);
}

TEST_F(streaming, unsatisfiable_range_is_416_with_the_length) {
  for (std::string range : {"bytes=" + n(n_) + "-", "bytes=" + n(n_ * 2) + "-" + n(n_ * 3),
                            std::string("bytes=99999999999999999999999-")}) {
    auto r = get({{"Range", range}});
    EXPECT_EQ(r.status(), 416) << range;
    EXPECT_EQ(r.header("Content-Range"), "bytes */" + n(n_));
    EXPECT_EQ(r.error_code(), "range_not_satisfiable");
  }
}

TEST_F(streaming, malformed_range_is_ignored) {
  for (const char* range : {"bytes=5-1", "bytes=abc", "pages=1-2", "bytes="}) {
    auto r = get({{"Range", range}});
    EXPECT_EQ(r.status(), 200) << range;
    EXPECT_EQ(r.raw.body().size(), n_);
  }
}

TEST_F(streaming, multiple_ranges_come_as_multipart_byteranges) {
  auto r = get({{"Range", "bytes=0-0,-1,100-199"}});
  ASSERT_EQ(r.status(), 206);
  std::string type = r.header("Content-Type");
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u);
  std::string boundary = type.substr(type.find('=') + 1);
  const std::string& body = r.raw.body();
  EXPECT_EQ(std::to_string(body.size()), r.header("Content-Length"));
  std::vector<std::pair<std::string, std::string>> parts;  // content-range, data
  std::size_t pos = 0;
  while (true) {
    auto start = body.find("--" + boundary, pos);
    ASSERT_NE(start, std::string::npos);
    start += 2 + boundary.size();
    if (body.compare(start, 2, "--") == 0) break;
    auto head_end = body.find("\r\n\r\n", start);
    std::string head = body.substr(start, head_end - start);
    auto next = body.find("\r\n--" + boundary, head_end + 4);
    std::string cr = head.substr(head.find("Content-Range: ") + 15);
    cr = cr.substr(0, cr.find("\r\n"));
    parts.emplace_back(cr, body.substr(head_end + 4, next - head_end - 4));
    pos = next;
  }
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], std::make_pair("bytes 0-0/" + n(n_), bytes_.substr(0, 1)));
  EXPECT_EQ(parts[1], std::make_pair("bytes " + n(n_ - 1) + "-" + n(n_ - 1) + "/" + n(n_), bytes_.substr(n_ - 1, 1)));
  EXPECT_EQ(parts[2], std::make_pair("bytes 100-199/" + n(n_), bytes_.substr(100, 100)));
}

TEST_F(streaming, if_range_applies_the_range_only_when_the_validator_matches) {
  auto full = get({});
  std::string etag = full.header("ETag"), modified = full.header("Last-Modified");
  EXPECT_EQ(get({{"Range", "bytes=0-9"}, {"If-Range", etag}}).status(), 206);
  EXPECT_EQ(get({{"Range", "bytes=0-9"}, {"If-Range", "\"stale\""}}).status(), 200);
  EXPECT_EQ(get({{"Range", "bytes=0-9"}, {"If-Range", "W/" + etag}}).status(), 200);  // weak never matches
  EXPECT_EQ(get({{"Range", "bytes=0-9"}, {"If-Range", modified}}).status(), 206);
  EXPECT_EQ(get({{"Range", "bytes=0-9"}, {"If-Range", "Mon, 01 Jan 2001 00:00:00 GMT"}}).status(), 200);
}

TEST_F(streaming, conditional_get_gives_304) {
  auto full = get({});
  std::string etag = full.header("ETag");
  auto r = get({{"If-None-Match", etag}});
  EXPECT_EQ(r.status(), 304);
  EXPECT_TRUE(r.raw.body().empty());
  EXPECT_EQ(r.header("ETag"), etag);
  EXPECT_EQ(get({{"If-None-Match", "\"other\", W/" + etag}}).status(), 304);
  EXPECT_EQ(get({{"If-None-Match", "*"}}).status(), 304);
  EXPECT_EQ(get({{"If-None-Match", "\"other\""}}).status(), 200);
  EXPECT_EQ(get({{"If-None-Match", etag}, {"Range", "bytes=0-1"}}).status(), 304);  // 304 wins
  EXPECT_EQ(get({{"If-Modified-Since", full.header("Last-Modified")}}).status(), 304);
  EXPECT_EQ(get({{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}}).status(), 200);
}

TEST_F(streaming, head_has_the_get_headers_and_no_body) {
  connection c(lib_->port());
  c.write("HEAD " + path_ + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib_->owner.token +
          "\r\nRange: bytes=0-9\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read_response(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200);  // Range only applies to GET
  EXPECT_EQ(head["Content-Length"], n(n_));
  EXPECT_EQ(head["Accept-Ranges"], "bytes");
  auto next = c.read_response();  // the next response follows at once: no body was sent
  EXPECT_EQ(next.result_int(), 200);
  EXPECT_EQ(next.body(), R"({"status":"ok"})");
}

TEST_F(streaming, viewers_stream_via_the_cookie_and_strangers_get_404) {
  auto viewer = call(lib_->port(), "GET", path_, "", "",
                     {{"Cookie", "reel_session=" + lib_->viewer.token}, {"Range", "bytes=0-3"}});
  EXPECT_EQ(viewer.status(), 206);
  EXPECT_EQ(call(lib_->port(), "GET", path_, lib_->stranger.token).status(), 404);
  EXPECT_EQ(call(lib_->port(), "GET", path_).status(), 404);  // a private video: nobody signed in finds nothing
  // Naming another organization explicitly hides it too.
  EXPECT_EQ(
      call(lib_->port(), "GET", path_, lib_->viewer.token, "", {{"X-Organization-Id", lib_->viewer.org_id}}).status(),
      404);
  EXPECT_EQ(call(lib_->port(), "GET", "/api/stream/nope/video", lib_->owner.token).status(), 404);
  EXPECT_EQ(call(lib_->port(), "GET", "/api/stream/..%2F..%2Freel.db/video", lib_->owner.token).status(), 404);
}

TEST_F(streaming, hls_files_have_their_types_and_no_way_out_of_the_folder) {
  auto master = call(lib_->port(), "GET", "/api/stream/" + id_ + "/hls/master.m3u8", lib_->owner.token);
  ASSERT_EQ(master.status(), 200);
  EXPECT_EQ(master.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(master.raw.body().rfind("#EXTM3U", 0), 0u);
  auto media = call(lib_->port(), "GET", "/api/stream/" + id_ + "/hls/240p/index.m3u8", lib_->owner.token);
  ASSERT_EQ(media.status(), 200);
  auto seg = call(lib_->port(), "GET", "/api/stream/" + id_ + "/hls/240p/seg_000.ts", lib_->owner.token);
  EXPECT_EQ(seg.status(), 200);
  EXPECT_EQ(seg.header("Content-Type"), "video/mp2t");
  for (std::string bad : {"../original", "..%2Foriginal", "240p/../../original", "240p/x/y.ts", "../../../../reel.db",
                          "master.m3u8%00", "240p/.hidden.ts", "original", ".."})
    EXPECT_EQ(call(lib_->port(), "GET", "/api/stream/" + id_ + "/hls/" + bad, lib_->owner.token).status(), 404) << bad;
  EXPECT_EQ(call(lib_->port(), "GET", "/api/stream/" + id_ + "/hls/master.m3u8", lib_->stranger.token).status(), 404);
}

TEST(videos, reader_that_hangs_up_mid_stream_does_not_hurt_the_server) {
  videos_library lib;
  auto clip = make_clip((fs::path(lib.server.data_dir()).parent_path() / "big.mp4").string(),
                        {.seconds = 4, .width = 320, .height = 240, .audio = false, .bitrate = "16M"});
  auto r = call(lib.port(), "POST", "/api/videos", lib.owner.token, clip, {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(r.status(), 201);
  ASSERT_EQ(wait_for_processing(lib.port(), lib.owner.token, id_of(r)).at("status"), "ready");
  ASSERT_GT(fs::file_size(lib.video_dir(id_of(r)) / "video.mp4"), 4'000'000u);
  for (int i = 0; i < 5; ++i) {
    connection c(lib.port());
    c.write("GET /api/stream/" + id_of(r) + "/video HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + lib.owner.token +
            "\r\n\r\n");
    char buf[1000];
    ::recv(c.native_handle(), buf, sizeof buf, 0);
    ::shutdown(c.native_handle(), SHUT_RDWR);
  }  // closed with megabytes still to send
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(lib.server.running());
  EXPECT_EQ(request(lib.port(), "GET", "/healthz").result_int(), 200);
}
