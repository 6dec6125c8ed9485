// tus 1.0.0 at /api/uploads against the real binary: the protocol's
// answers, bad input, tenancy, durability across a kill -9, expiry.
#include "core/digest.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <filesystem>
#include <thread>

using namespace reel::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string b64(std::string_view s) { return reel::base64_encode(s); }

std::string sha1_b64(std::string_view bytes) {
  reel::sha1 h;
  h.update(bytes);
  auto d = h.finish();
  return b64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

struct created {
  std::string location, video_id;
};

created create(unsigned short port, const std::string& token, std::size_t length, headers extra = {}) {
  extra["Upload-Length"] = std::to_string(length);
  if (!extra.count("Upload-Metadata")) extra["Upload-Metadata"] = "filename " + b64("clip.mp4") + ",title " + b64("T");
  auto r = call(port, "POST", "/api/uploads", token, "", tus(extra));
  if (r.status() != 201) throw std::runtime_error("create failed: " + std::to_string(r.status()) + " " + r.raw.body());
  return {r.header("Location"), r.header("X-Video-Id")};
}

fs::path original_of(const server_process& s, const account& a, const std::string& video_id) {
  return fs::path(s.data_dir()) / "orgs" / a.org_id / "videos" / video_id / "original";
}

// A PATCH whose head and first `first.size()` body bytes are sent, the rest held back.
std::unique_ptr<connection> start_patch(unsigned short port, const std::string& token, const std::string& location,
                                        std::size_t offset, std::size_t length, const std::string& first) {
  auto c = std::make_unique<connection>(port);
  c->write("PATCH " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
           "\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: " +
           std::to_string(offset) + "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n" + first);
  return c;
}

}  // namespace

TEST(uploads, options_advertises_the_extensions_without_authentication) {
  server_process s;
  auto r = call(s.port(), "OPTIONS", "/api/uploads");
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.header("Tus-Version"), "1.0.0");
  EXPECT_EQ(r.header("Tus-Extension"), "creation,creation-with-upload,termination,expiration,checksum");
  EXPECT_EQ(r.header("Tus-Checksum-Algorithm"), "sha1");
  EXPECT_EQ(r.header("Tus-Max-Size"), "10737418240");
}

TEST(uploads, chunks_in_order_make_the_file_and_queue_the_video) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "u@example.com", "U");
  std::string bytes = random_bytes(300'000, 1);
  auto up = create(s.port(), a.token, bytes.size());
  EXPECT_TRUE(up.location.starts_with("/api/uploads/"));
  auto v = call(s.port(), "GET", "/api/videos/" + up.video_id, a.token);
  EXPECT_EQ(v.json.at("video").at("status"), "uploading");
  EXPECT_EQ(v.json.at("video").at("title"), "T");
  EXPECT_EQ(v.json.at("video").at("originalFilename"), "clip.mp4");
  EXPECT_EQ(offset_of(s.port(), a.token, up.location), "0");

  auto head = call(s.port(), "HEAD", up.location, a.token, "", tus());
  EXPECT_EQ(head.header("Upload-Length"), "300000");
  EXPECT_EQ(head.header("Upload-Metadata"), "filename " + b64("clip.mp4") + ",title " + b64("T"));
  EXPECT_EQ(head.header("Cache-Control"), "no-store");
  EXPECT_EQ(head.header("Tus-Resumable"), "1.0.0");

  auto r1 = patch(s.port(), a.token, up.location, 0, bytes.substr(0, 100'000));
  EXPECT_EQ(r1.status(), 204);
  EXPECT_EQ(r1.header("Upload-Offset"), "100000");
  EXPECT_FALSE(r1.header("Upload-Expires").empty());
  auto r2 = patch(s.port(), a.token, up.location, 100'000, bytes.substr(100'000));
  EXPECT_EQ(r2.status(), 204);
  EXPECT_EQ(r2.header("Upload-Offset"), "300000");
  EXPECT_EQ(read_file(original_of(s, a, up.video_id)), bytes);
  v = call(s.port(), "GET", "/api/videos/" + up.video_id, a.token);
  EXPECT_EQ(v.json.at("video").at("status"), "queued");
  EXPECT_EQ(v.json.at("video").at("sizeBytes"), 300000);
  // A completed upload still answers where it is, so a resuming client learns it is done.
  EXPECT_EQ(offset_of(s.port(), a.token, up.location), "300000");
  EXPECT_EQ(patch(s.port(), a.token, up.location, 300'000, "x").status(), 413);
}

TEST(uploads, creation_with_upload_stores_the_first_bytes) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "cwu@example.com", "C");
  std::string bytes = random_bytes(50'000, 2);
  auto r = call(s.port(), "POST", "/api/uploads", a.token, bytes.substr(0, 20'000),
                tus({{"Upload-Length", "50000"}, {"Content-Type", "application/offset+octet-stream"}}));
  ASSERT_EQ(r.status(), 201) << r.raw.body();
  EXPECT_EQ(r.header("Upload-Offset"), "20000");
  std::string location = r.header("Location");
  EXPECT_EQ(patch(s.port(), a.token, location, 20'000, bytes.substr(20'000)).status(), 204);
  EXPECT_EQ(read_file(original_of(s, a, r.header("X-Video-Id"))), bytes);
  // Without metadata the title is "Untitled" and the file is called "upload".
  auto v = call(s.port(), "GET", "/api/videos/" + r.header("X-Video-Id"), a.token);
  EXPECT_EQ(v.json.at("video").at("title"), "Untitled");
}

TEST(uploads, bad_requests_get_clear_errors_and_change_nothing) {
  server_process s({"--workers", "0", "--max-upload-bytes", "1000000"});
  auto a = register_account(s.port(), "bad@example.com", "B");
  auto no_version = call(s.port(), "POST", "/api/uploads", a.token, "", {{"Upload-Length", "10"}});
  EXPECT_EQ(no_version.status(), 412);
  EXPECT_EQ(no_version.header("Tus-Version"), "1.0.0");
  EXPECT_EQ(no_version.error_code(), "precondition_failed");
  EXPECT_EQ(call(s.port(), "POST", "/api/uploads", a.token, "", {{"Tus-Resumable", "0.2.2"}}).status(), 412);

  auto post = [&](headers h) { return call(s.port(), "POST", "/api/uploads", a.token, "", tus(h)); };
  EXPECT_EQ(post({}).error_code(), "bad_request");                              // no Upload-Length
  EXPECT_EQ(post({{"Upload-Length", "0"}}).error_code(), "bad_request");        // empty file
  EXPECT_EQ(post({{"Upload-Length", "-5"}}).error_code(), "bad_request");       // not a number
  EXPECT_EQ(post({{"Upload-Length", "99999999999999999999"}}).status(), 400u);  // absurd
  EXPECT_EQ(post({{"Upload-Length", "1000001"}}).status(), 413u);               // over the limit
  EXPECT_EQ(post({{"Upload-Defer-Length", "1"}}).status(), 400u);
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Metadata", "filename !!!"}}).status(), 400u);
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Metadata", "a " + b64("x") + ",a " + b64("y")}}).status(), 400u);
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Metadata", std::string(5000, 'k')}}).status(), 400u);
  EXPECT_EQ(post({{"Upload-Length", "10"}, {"Upload-Metadata", "title " + b64(std::string(300, 't'))}}).status(), 400u);
  EXPECT_EQ(call(s.port(), "POST", "/api/uploads", "", "", tus({{"Upload-Length", "10"}})).status(), 401u);
  EXPECT_EQ(call(s.port(), "POST", "/api/uploads", "forged", "", tus({{"Upload-Length", "10"}})).status(), 401u);
  auto list = call(s.port(), "GET", "/api/videos", a.token);
  EXPECT_EQ(list.json.at("videos").as_array().size(), 0u);  // none of these made a video

  auto up = create(s.port(), a.token, 1000);
  std::string bytes = random_bytes(1000, 3);
  // Wrong content type, missing or wrong offsets, unknown ids, path tricks.
  EXPECT_EQ(call(s.port(), "PATCH", up.location, a.token, bytes, tus({{"Upload-Offset", "0"}})).status(), 415u);
  EXPECT_EQ(
      call(s.port(), "PATCH", up.location, a.token, bytes, tus({{"Content-Type", "application/offset+octet-stream"}}))
          .status(),
      400u);
  auto mismatch = patch(s.port(), a.token, up.location, 10, bytes);
  EXPECT_EQ(mismatch.status(), 409);
  EXPECT_EQ(mismatch.error_code(), "conflict");
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, bytes + "extra").status(), 413);
  EXPECT_EQ(offset_of(s.port(), a.token, up.location), "0");
  EXPECT_EQ(patch(s.port(), a.token, "/api/uploads/nope", 0, bytes).status(), 404);
  EXPECT_EQ(patch(s.port(), a.token, "/api/uploads/..%2F..%2Freel.db", 0, bytes).status(), 404);
  EXPECT_EQ(call(s.port(), "HEAD", "/api/uploads/%00", a.token, "", tus()).status(), 404);
  // Reprocessing a video still uploading would process half a file.
  EXPECT_EQ(call(s.port(), "POST", "/api/videos/" + up.video_id + "/reprocess", a.token).status(), 409);
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, bytes).status(), 204);
}

TEST(uploads, checksum_mismatch_discards_the_chunk_and_a_good_one_is_kept) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "sum@example.com", "S");
  std::string bytes = random_bytes(200'000, 4);
  auto up = create(s.port(), a.token, bytes.size());
  std::string first = bytes.substr(0, 120'000);
  auto bad = patch(s.port(), a.token, up.location, 0, first, {{"Upload-Checksum", "sha1 " + sha1_b64("other")}});
  EXPECT_EQ(bad.status(), 460);
  EXPECT_EQ(bad.raw.reason(), "Checksum Mismatch");
  EXPECT_EQ(bad.error_code(), "checksum_mismatch");
  EXPECT_EQ(offset_of(s.port(), a.token, up.location), "0");
  EXPECT_EQ(fs::file_size(original_of(s, a, up.video_id)), 0u);
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, first, {{"Upload-Checksum", "md5 " + sha1_b64(first)}}).status(),
            400);
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, first, {{"Upload-Checksum", "sha1 nope"}}).status(), 400);
  auto good = patch(s.port(), a.token, up.location, 0, first, {{"Upload-Checksum", "sha1 " + sha1_b64(first)}});
  EXPECT_EQ(good.status(), 204);
  EXPECT_EQ(good.header("Upload-Offset"), "120000");
  std::string rest = bytes.substr(120'000);
  EXPECT_EQ(
      patch(s.port(), a.token, up.location, 120'000, rest, {{"Upload-Checksum", "sha1 " + sha1_b64(rest)}}).status(),
      204);
  EXPECT_EQ(read_file(original_of(s, a, up.video_id)), bytes);
}

TEST(uploads, another_tenant_gets_404_and_a_viewer_403) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "owner@example.com", "A");
  auto b = register_account(s.port(), "other@example.com", "B");
  auto up = create(s.port(), a.token, 100);
  std::string bytes = random_bytes(100, 5);
  EXPECT_EQ(call(s.port(), "HEAD", up.location, b.token, "", tus()).status(), 404);
  EXPECT_EQ(patch(s.port(), b.token, up.location, 0, bytes).status(), 404);
  EXPECT_EQ(call(s.port(), "DELETE", up.location, b.token, "", tus()).status(), 404);
  // Naming another organization than the upload's is 404 too.
  EXPECT_EQ(call(s.port(), "HEAD", up.location, a.token, "", tus({{"X-Organization-Id", b.org_id}})).status(), 404);
  // A viewer of the organization may not write.
  auto viewer = register_account(s.port(), "viewer@example.com", "V");
  invite_and_accept(s.port(), a, a.org_id, viewer, "viewer");
  EXPECT_EQ(patch(s.port(), viewer.token, up.location, 0, bytes, {{"X-Organization-Id", a.org_id}}).status(), 403);
  EXPECT_EQ(call(s.port(), "POST", "/api/uploads", viewer.token, "",
                 tus({{"Upload-Length", "10"}, {"X-Organization-Id", a.org_id}}))
                .status(),
            403);
  EXPECT_EQ(offset_of(s.port(), a.token, up.location), "0");
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, bytes).status(), 204);
}

TEST(uploads, termination_removes_the_video_and_its_file) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "term@example.com", "T");
  auto up = create(s.port(), a.token, 1000);
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, random_bytes(400, 6)).status(), 204);
  auto dir = original_of(s, a, up.video_id).parent_path();
  EXPECT_TRUE(fs::exists(dir));
  auto r = call(s.port(), "DELETE", up.location, a.token, "", tus());
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.header("Tus-Resumable"), "1.0.0");
  EXPECT_EQ(call(s.port(), "HEAD", up.location, a.token, "", tus()).status(), 404);
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + up.video_id, a.token).status(), 404);
  EXPECT_FALSE(fs::exists(dir));
  // Terminating a finished upload forgets the upload; the video stays.
  auto done = create(s.port(), a.token, 10);
  EXPECT_EQ(patch(s.port(), a.token, done.location, 0, "0123456789").status(), 204);
  EXPECT_EQ(call(s.port(), "DELETE", done.location, a.token, "", tus()).status(), 204);
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + done.video_id, a.token).status(), 200);
  // Deleting the video through /api/videos ends its upload too.
  auto other = create(s.port(), a.token, 10);
  EXPECT_EQ(call(s.port(), "DELETE", "/api/videos/" + other.video_id, a.token).status(), 204);
  EXPECT_EQ(call(s.port(), "HEAD", other.location, a.token, "", tus()).status(), 404);
  EXPECT_EQ(patch(s.port(), a.token, other.location, 0, "0123456789").status(), 404);
}

TEST(uploads, method_override_lets_post_carry_patch_and_delete) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "ovr@example.com", "O");
  auto up = create(s.port(), a.token, 10);
  auto r = call(s.port(), "POST", up.location, a.token, "01234",
                tus({{"X-HTTP-Method-Override", "PATCH"},
                     {"Upload-Offset", "0"},
                     {"Content-Type", "application/offset+octet-stream"}}));
  EXPECT_EQ(r.status(), 204);
  EXPECT_EQ(r.header("Upload-Offset"), "5");
  EXPECT_EQ(call(s.port(), "POST", up.location, a.token, "", tus({{"X-HTTP-Method-Override", "PUT"}})).status(), 405);
  EXPECT_EQ(call(s.port(), "POST", up.location, a.token, "", tus({{"X-HTTP-Method-Override", "DELETE"}})).status(),
            204);
  EXPECT_EQ(call(s.port(), "HEAD", up.location, a.token, "", tus()).status(), 404);
}

TEST(uploads, a_second_writer_is_refused_while_the_first_writes) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "race@example.com", "R");
  std::string bytes = random_bytes(200'000, 7);
  auto up = create(s.port(), a.token, bytes.size());
  auto first = start_patch(s.port(), a.token, up.location, 0, bytes.size(), bytes.substr(0, 50'000));
  std::this_thread::sleep_for(200ms);
  auto second = patch(s.port(), a.token, up.location, 0, bytes);
  EXPECT_EQ(second.status(), 423);
  EXPECT_EQ(second.error_code(), "locked");
  first->write(bytes.substr(50'000));
  auto done = first->read_response();
  EXPECT_EQ(done.result_int(), 204);
  EXPECT_EQ(read_file(original_of(s, a, up.video_id)), bytes);
}

TEST(uploads, a_stranger_can_neither_stop_nor_detect_an_upload_in_progress) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "writer@example.com", "A");
  auto b = register_account(s.port(), "stranger@example.com", "B");
  std::string bytes = random_bytes(200'000, 13);
  auto up = create(s.port(), a.token, bytes.size());
  auto writer = start_patch(s.port(), a.token, up.location, 0, bytes.size(), bytes.substr(0, 50'000));
  std::this_thread::sleep_for(200ms);
  // Another organization's PATCH is 404 like for any unknown id, not 423
  // (which would tell that this upload exists and is being written)...
  auto probe = patch(s.port(), b.token, up.location, 0, bytes);
  EXPECT_EQ(probe.status(), 404);
  EXPECT_EQ(call(s.port(), "POST", up.location, b.token, "",
                 tus({{"X-HTTP-Method-Override", "PATCH"},
                      {"Upload-Offset", "0"},
                      {"Content-Type", "application/offset+octet-stream"}}))
                .status(),
            404);
  // ...and its termination is 404 and does not stop the writer.
  EXPECT_EQ(call(s.port(), "DELETE", up.location, b.token, "", tus()).status(), 404);
  EXPECT_EQ(call(s.port(), "POST", up.location, b.token, "", tus({{"X-HTTP-Method-Override", "DELETE"}})).status(),
            404);
  writer->write(bytes.substr(50'000));
  auto done = writer->read_response();
  EXPECT_EQ(done.result_int(), 204);
  EXPECT_EQ(read_file(original_of(s, a, up.video_id)), bytes);
}

TEST(uploads, termination_stops_a_patch_in_progress) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "stop@example.com", "S");
  std::string bytes = random_bytes(200'000, 11);
  auto up = create(s.port(), a.token, bytes.size());
  auto writer = start_patch(s.port(), a.token, up.location, 0, bytes.size(), bytes.substr(0, 50'000));
  std::this_thread::sleep_for(200ms);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(call(s.port(), "DELETE", up.location, a.token, "", tus()).status(), 204);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_TRUE(writer->closed_by_server());  // the stopped PATCH gets no answer
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + up.video_id, a.token).status(), 404);
  EXPECT_FALSE(fs::exists(original_of(s, a, up.video_id).parent_path()));
}

TEST(uploads, a_dropped_connection_keeps_what_arrived) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "drop@example.com", "D");
  std::string bytes = random_bytes(3'000'000, 8);
  auto up = create(s.port(), a.token, bytes.size());
  {
    auto c = start_patch(s.port(), a.token, up.location, 0, bytes.size(), bytes.substr(0, 1'500'000));
    std::this_thread::sleep_for(300ms);
  }  // closed mid-body
  std::string offset;
  for (int i = 0; i < 50 && (offset = offset_of(s.port(), a.token, up.location)) == "0"; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(offset, "1500000");
  EXPECT_EQ(patch(s.port(), a.token, up.location, 1'500'000, bytes.substr(1'500'000)).status(), 204);
  EXPECT_EQ(read_file(original_of(s, a, up.video_id)), bytes);
}

TEST(uploads, after_kill_9_the_upload_resumes_at_a_stored_offset_with_exactly_those_bytes) {
  server_process s({"--workers", "0"});
  auto a = register_account(s.port(), "crash@example.com", "K");
  std::string bytes = random_bytes(8'000'000, 9);
  auto up = create(s.port(), a.token, bytes.size());
  // Two seconds into a PATCH the stored offset catches up with what was written.
  auto c = start_patch(s.port(), a.token, up.location, 0, bytes.size(), bytes.substr(0, 3'000'000));
  std::this_thread::sleep_for(2200ms);
  c->write(bytes.substr(3'000'000, 2'000'000));
  std::this_thread::sleep_for(300ms);
  std::string data = s.data_dir();
  EXPECT_EQ(s.stop(SIGKILL), 128 + SIGKILL);

  server_process again({"--data-dir", data, "--workers", "0"});
  std::string offset = offset_of(again.port(), a.token, up.location);
  ASSERT_FALSE(offset.starts_with("HEAD")) << offset;
  std::size_t stored = std::stoul(offset);
  EXPECT_GE(stored, 3'000'000u);
  EXPECT_LE(stored, 5'000'000u);
  auto file = fs::path(data) / "orgs" / a.org_id / "videos" / up.video_id / "original";
  EXPECT_EQ(read_file(file).substr(0, stored), bytes.substr(0, stored));
  EXPECT_EQ(patch(again.port(), a.token, up.location, stored, bytes.substr(stored)).status(), 204);
  EXPECT_EQ(read_file(file), bytes);
  auto v = call(again.port(), "GET", "/api/videos/" + up.video_id, a.token);
  EXPECT_EQ(v.json.at("video").at("status"), "queued");
}

TEST(uploads, expired_uploads_are_gone_with_their_video_and_file) {
  server_process s({"--workers", "0", "--upload-expiry-seconds", "1"});
  auto a = register_account(s.port(), "exp@example.com", "E");
  auto up = create(s.port(), a.token, 1000);
  EXPECT_EQ(patch(s.port(), a.token, up.location, 0, random_bytes(100, 10)).status(), 204);
  auto finished = create(s.port(), a.token, 10);
  EXPECT_EQ(patch(s.port(), a.token, finished.location, 0, "0123456789").status(), 204);
  auto dir = original_of(s, a, up.video_id).parent_path();
  std::this_thread::sleep_for(1100ms);
  // Past its expiry an upload answers 410 even before the sweep has run.
  auto r = patch(s.port(), a.token, up.location, 100, "x");
  EXPECT_TRUE(r.status() == 410 || r.status() == 404) << r.status();
  EXPECT_TRUE(s.wait_for_log("upload expired", 5s));
  for (int i = 0; i < 40 && fs::exists(dir); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + up.video_id, a.token).status(), 404);
  EXPECT_EQ(call(s.port(), "HEAD", up.location, a.token, "", tus()).status(), 404);
  // The finished one keeps its video.
  EXPECT_EQ(call(s.port(), "GET", "/api/videos/" + finished.video_id, a.token).status(), 200);
}

TEST(uploads, a_browser_on_an_allowed_origin_can_read_the_tus_headers) {
  server_process s({"--workers", "0", "--cors-origins", "https://app.example.com"});
  auto a = register_account(s.port(), "cors@example.com", "C");
  auto preflight = call(s.port(), "OPTIONS", "/api/uploads", "", "",
                        {{"Origin", "https://app.example.com"},
                         {"Access-Control-Request-Method", "PATCH"},
                         {"Access-Control-Request-Headers", "tus-resumable, upload-offset, upload-checksum"}});
  EXPECT_EQ(preflight.header("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_NE(preflight.header("Access-Control-Allow-Methods").find("PATCH"), std::string::npos);
  EXPECT_NE(preflight.header("Access-Control-Allow-Headers").find("upload-offset"), std::string::npos);
  auto r = call(s.port(), "POST", "/api/uploads", a.token, "",
                tus({{"Upload-Length", "10"}, {"Origin", "https://app.example.com"}}));
  ASSERT_EQ(r.status(), 201);
  std::string exposed = r.header("Access-Control-Expose-Headers");
  for (const char* h : {"Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "X-Video-Id"})
    EXPECT_NE(exposed.find(h), std::string::npos) << h;
  EXPECT_EQ(r.header("Access-Control-Allow-Credentials"), "true");
}
