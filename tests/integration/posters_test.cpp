// docs/API.md "Posters": PUT /api/videos/:id/poster with a time or a
// JPEG/PNG image, DELETE back to the automatic frame; the poster, its
// scaled copies and the share page's Open Graph image follow, the choice
// survives reprocessing, the storage count follows the files; against the
// real binary and real ffmpeg, on the pass's backend.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// The mean colour of an image, as 0..255 red, green, blue.
struct rgb {
  int r = 0, g = 0, b = 0;
};

void write(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

rgb mean_colour(const fs::path& scratch, const std::string& jpeg) {
  auto file = scratch / "colour.jpg";
  write(file, jpeg);
  std::istringstream in(
      shell("ffmpeg -v error -i " + file.string() + " -vf scale=1:1 -f rawvideo -pix_fmt rgb24 - | od -An -tu1"));
  rgb c;
  in >> c.r >> c.g >> c.b;
  return c;
}

bool is_red(rgb c) { return c.r > 180 && c.g < 70 && c.b < 70; }
bool is_blue(rgb c) { return c.b > 180 && c.r < 70 && c.g < 70; }
bool is_green(rgb c) { return c.g > 100 && c.r < 70 && c.b < 70; }

// "WxH" of an image or video file's first video stream.
std::string size_of_image(const fs::path& scratch, const std::string& bytes) {
  auto file = scratch / "sized.jpg";
  write(file, bytes);
  auto out =
      shell("ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 " + file.string());
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// An image made by ffmpeg from a lavfi colour source.
std::string make_image(const fs::path& scratch, const std::string& name, const std::string& colour,
                       const std::string& size, const std::string& extra = "") {
  auto file = scratch / name;
  shell("ffmpeg -v error -y -f lavfi -i color=c=" + colour + ":s=" + size + " -frames:v 1 " + extra + " " +
        file.string());
  return read_file(file);
}

// One organization with an owner, a viewer member, a stranger in another,
// and a ready 6 s clip that is red for 3 s, then blue.
struct posters_library {
  server_process server;
  account owner, viewer, stranger;
  std::string id;
  fs::path scratch;
  posters_library() : server({}, {}) {
    owner = register_account(port(), "owner@example.com", "Acme");
    viewer = register_account(port(), "viewer@example.com", "Viewer's own");
    stranger = register_account(port(), "stranger@example.com", "Elsewhere");
    invite_and_accept(port(), owner, owner.org_id, viewer, "viewer");
    scratch = fs::path(server.data_dir()).parent_path() / "posters";
    fs::create_directories(scratch);
    auto clip = scratch / "red-then-blue.mp4";
    shell(
        "ffmpeg -v error -y -f lavfi -i color=c=red:s=320x240:d=3:r=25 -f lavfi -i color=c=blue:s=320x240:d=3:r=25 "
        "-filter_complex '[0][1]concat=n=2:v=1:a=0' -c:v libx264 -pix_fmt yuv420p " +
        clip.string());
    auto r = call(port(), "POST", "/api/videos", owner.token, read_file(clip), {{"Content-Type", "video/mp4"}});
    if (r.status() != 201) throw std::runtime_error(r.raw.body());
    id = text(r.json.at("video"), "id");
    auto v = wait_for_processing(port(), owner.token, id);
    if (v.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(v));
  }
  unsigned short port() const { return server.port(); }
  fs::path dir() const { return fs::path(server.data_dir()) / "orgs" / owner.org_id / "videos" / id; }
  std::string path() const { return "/api/videos/" + id + "/poster"; }
  api_reply poster(const std::string& query = "") const {
    return call(port(), "GET", "/api/stream/" + id + "/thumbnail.jpg" + query, owner.token);
  }
  rgb poster_colour(const std::string& query = "") const { return mean_colour(scratch, poster(query).raw.body()); }
  json::value video() const { return call(port(), "GET", "/api/videos/" + id, owner.token).json.at("video"); }
  api_reply put_time(double t, const std::string& token) const {
    return call_json(port(), "PUT", path(), token, {{"time", t}});
  }
  api_reply put_image(const std::string& bytes, const std::string& type) const {
    return call(port(), "PUT", path(), owner.token, bytes, {{"Content-Type", type}});
  }
  void reprocess() const {
    auto re = call(port(), "POST", "/api/videos/" + id + "/reprocess", owner.token);
    if (re.status() != 202 && re.status() != 200) throw std::runtime_error(re.raw.body());
    auto v = wait_for_processing(port(), owner.token, id);
    if (v.at("status") != "ready") throw std::runtime_error("not ready: " + json::serialize(v));
  }
  std::int64_t used() const {
    auto r = call(port(), "GET", "/api/orgs", owner.token);
    for (const auto& o : r.json.at("organizations").as_array())
      if (o.at("id").as_string() == owner.org_id) return o.at("storageUsedBytes").to_number<std::int64_t>();
    throw std::runtime_error("no organization");
  }
  // The bytes the quota counts: every file of the organization but cached frames.
  std::int64_t counted_on_disk() const {
    std::int64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(fs::path(server.data_dir()) / "orgs" / owner.org_id)) {
      if (e.path().string().find("/thumbs/") != std::string::npos) continue;
      if (e.is_regular_file()) total += static_cast<std::int64_t>(e.file_size());
    }
    return total;
  }
};

class posters : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { lib_ = new posters_library(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete lib_; }
  void TearDown() override {
    if (reel::test::suite_setup_failed()) return;
    call(lib_->port(), "DELETE", lib_->path(), lib_->owner.token);
  }
  static inline posters_library* lib_ = nullptr;
};

}  // namespace

TEST_F(posters, a_chosen_time_becomes_the_poster_everywhere_and_survives_reprocessing) {
  auto& lib = *lib_;
  ASSERT_TRUE(is_red(lib.poster_colour()));  // automatic: 0.6 s in
  auto before = lib.poster();
  EXPECT_EQ(before.header("Cache-Control"), "private, no-cache");
  std::int64_t version = lib.video().at("poster").at("version").to_number<std::int64_t>();

  auto r = lib.put_time(4.5, lib.owner.token);
  ASSERT_EQ(r.status(), 200u) << r.raw.body();
  const auto& poster = r.json.at("video").at("poster");
  EXPECT_EQ(text(poster, "source"), "time");
  EXPECT_DOUBLE_EQ(poster.at("time").to_number<double>(), 4.5);
  EXPECT_EQ(poster.at("version").to_number<std::int64_t>(), version + 1);

  auto after = lib.poster();
  EXPECT_NE(after.header("ETag"), before.header("ETag"));
  EXPECT_TRUE(is_blue(mean_colour(lib.scratch, after.raw.body())));
  EXPECT_EQ(size_of_image(lib.scratch, after.raw.body()), "320x240");
  // A conditional request with the old ETag gets the new poster.
  auto revalidated = call(lib.port(), "GET", "/api/stream/" + lib.id + "/thumbnail.jpg", lib.owner.token, "",
                          {{"If-None-Match", before.header("ETag")}});
  EXPECT_EQ(revalidated.status(), 200u);
  // The scaled copies (library cards) follow, at most the poster's width.
  auto small = lib.poster("?width=160");
  ASSERT_EQ(small.status(), 200u) << small.raw.body();
  EXPECT_TRUE(is_blue(mean_colour(lib.scratch, small.raw.body())));
  EXPECT_EQ(size_of_image(lib.scratch, small.raw.body()), "160x120");
  EXPECT_EQ(size_of_image(lib.scratch, lib.poster("?width=1920").raw.body()), "320x240");
  // The very end still gives a frame (half a second before it).
  ASSERT_EQ(lib.put_time(lib.video().at("durationSec").to_number<double>(), lib.owner.token).status(), 200u);
  EXPECT_TRUE(is_blue(lib.poster_colour()));

  // The share page's Open Graph image names the new version.
  auto vis = call_json(lib.port(), "PATCH", "/api/videos/" + lib.id, lib.owner.token, {{"visibility", "unlisted"}});
  ASSERT_EQ(vis.status(), 200u);
  auto page = call(lib.port(), "GET", "/v/" + lib.id).raw.body();
  std::string expected = "/api/stream/" + lib.id + "/thumbnail.jpg?v=" + std::to_string(version + 2) + "\"";
  EXPECT_NE(page.find(expected), std::string::npos) << page;
  auto og = call(lib.port(), "GET", "/api/stream/" + lib.id + "/thumbnail.jpg?v=" + std::to_string(version + 2));
  EXPECT_EQ(og.status(), 200u);
  EXPECT_TRUE(is_blue(mean_colour(lib.scratch, og.raw.body())));
  call_json(lib.port(), "PATCH", "/api/videos/" + lib.id, lib.owner.token, {{"visibility", "private"}});

  lib.reprocess();
  EXPECT_TRUE(is_blue(lib.poster_colour()));
  EXPECT_EQ(text(lib.video().at("poster"), "source"), "time");

  // Back to the automatic frame.
  auto reset = call(lib.port(), "DELETE", lib.path(), lib.owner.token);
  ASSERT_EQ(reset.status(), 200u) << reset.raw.body();
  EXPECT_EQ(text(reset.json.at("video").at("poster"), "source"), "auto");
  EXPECT_TRUE(reset.json.at("video").at("poster").at("time").is_null());
  EXPECT_TRUE(is_red(lib.poster_colour()));
  EXPECT_TRUE(is_red(lib.poster_colour("?width=160")));
}

TEST_F(posters, an_uploaded_image_is_decoded_and_written_again_and_survives_reprocessing) {
  auto& lib = *lib_;
  auto png = make_image(lib.scratch, "green.png", "green", "800x600");
  auto r = lib.put_image(png, "image/png");
  ASSERT_EQ(r.status(), 200u) << r.raw.body();
  EXPECT_EQ(text(r.json.at("video").at("poster"), "source"), "image");
  auto served = lib.poster().raw.body();
  ASSERT_GE(served.size(), 3u);
  EXPECT_EQ(served.substr(0, 3), "\xFF\xD8\xFF");  // a JPEG, not the PNG sent
  EXPECT_TRUE(is_green(mean_colour(lib.scratch, served)));
  EXPECT_EQ(size_of_image(lib.scratch, served), "800x600");
  EXPECT_EQ(lib.used(), lib.counted_on_disk());

  // A JPEG's metadata is not carried over; a large image is scaled down to 1920.
  auto jpeg = make_image(lib.scratch, "tagged.jpg", "blue", "2400x1200");
  const std::string marker = "SECRET-MARKER-42";  // in a comment segment (COM) after the start of image
  jpeg = jpeg.substr(0, 2) + "\xFF\xFE" + std::string(1, '\0') + static_cast<char>(marker.size() + 2) + marker +
         jpeg.substr(2);
  ASSERT_EQ(size_of_image(lib.scratch, jpeg), "2400x1200");  // still a valid JPEG
  ASSERT_EQ(lib.put_image(jpeg, "image/jpeg").status(), 200u);
  served = lib.poster().raw.body();
  EXPECT_EQ(served.find(marker), std::string::npos);
  EXPECT_NE(served, jpeg);
  EXPECT_EQ(size_of_image(lib.scratch, served), "1920x960");
  EXPECT_TRUE(is_blue(mean_colour(lib.scratch, served)));
  EXPECT_EQ(lib.used(), lib.counted_on_disk());

  lib.reprocess();
  EXPECT_TRUE(is_blue(lib.poster_colour()));
  EXPECT_EQ(text(lib.video().at("poster"), "source"), "image");
  EXPECT_EQ(lib.used(), lib.counted_on_disk());

  // A time replaces the image, whose file goes.
  ASSERT_EQ(lib.put_time(1, lib.owner.token).status(), 200u);
  EXPECT_TRUE(is_red(lib.poster_colour()));
  EXPECT_FALSE(fs::exists(lib.dir() / "poster-image.jpg"));
  EXPECT_EQ(lib.used(), lib.counted_on_disk());
}

TEST_F(posters, bad_posters_are_refused_and_change_nothing) {
  auto& lib = *lib_;
  auto before = lib.poster().raw.body();
  auto version = lib.video().at("poster").at("version");
  auto put = [&](const std::string& body, const std::string& type) {
    return call(lib.port(), "PUT", lib.path(), lib.owner.token, body, {{"Content-Type", type}});
  };
  struct bad {
    std::string body, type;
    unsigned status;
    std::string message;  // a part of it
  };
  std::string png_signature("\x89PNG\r\n\x1A\n", 8);
  std::vector<bad> cases = {
      {R"({"time": -1})", "application/json", 400, "0 or more"},
      {R"({"time": "3"})", "application/json", 400, "\"time\" (seconds, a number)"},
      {R"({})", "application/json", 400, "\"time\" (seconds, a number)"},
      {R"({"time": 1, "image": "x"})", "application/json", 400, "\"image\""},
      {R"({"time": 6.1})", "application/json", 400, "from 0 to the video's duration (6."},
      {R"({"time": 1e400})", "application/json", 400, ""},
      {R"({"time": )", "application/json", 400, ""},
      {"[1]", "application/json", 400, ""},
      {"hello", "text/plain", 415, "image/png"},
      {make_image(lib.scratch, "x.jpg", "red", "64x64"), "image/png", 400, "not a PNG"},
      {"GIF89a", "image/jpeg", 400, "not a JPEG"},
      {"", "image/png", 400, "not a PNG"},
      {png_signature + random_bytes(4000, 7), "image/png", 400, "could not be decoded"},
      {make_image(lib.scratch, "huge.png", "white", "9000x9000"), "image/png", 400, "could not be decoded"},
      {png_signature + std::string(5 * 1024 * 1024, 'x'), "image/png", 413, ""},
  };
  for (const auto& c : cases) {
    auto r = put(c.body, c.type);
    EXPECT_EQ(r.status(), c.status) << c.type << " " << c.body.substr(0, 40) << ": " << r.raw.body();
    ASSERT_TRUE(r.json.is_object()) << r.raw.body();
    EXPECT_NE(text(r.json.at("error"), "message").find(c.message), std::string::npos)
        << c.body.substr(0, 40) << ": " << r.raw.body();
  }
  EXPECT_EQ(lib.poster().raw.body(), before);
  EXPECT_EQ(lib.video().at("poster").at("version"), version);
  for (const auto& e : fs::directory_iterator(lib.dir()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  EXPECT_EQ(lib.used(), lib.counted_on_disk());
}

TEST_F(posters, only_editors_of_the_organization_choose_posters) {
  auto& lib = *lib_;
  auto gone = register_account(lib.port(), "gone@example.com", "Gone");
  ASSERT_EQ(call(lib.port(), "POST", "/api/auth/logout", gone.token).status(), 204u);
  std::map<std::string, std::string> as_viewer = {{"X-Organization-Id", lib.owner.org_id}};
  auto version = lib.video().at("poster").at("version");
  const std::string body = R"({"time": 4})";
  EXPECT_EQ(call(lib.port(), "PUT", lib.path(), "", body).status(), 401u);
  EXPECT_EQ(call(lib.port(), "PUT", lib.path(), gone.token, body).status(), 401u);
  EXPECT_EQ(call(lib.port(), "PUT", lib.path(), lib.viewer.token, body, as_viewer).status(), 403u);
  EXPECT_EQ(call(lib.port(), "PUT", lib.path(), lib.stranger.token, body).status(), 404u);
  EXPECT_EQ(call(lib.port(), "PUT", "/api/videos/00000000000000000000000000/poster", lib.owner.token, body).status(),
            404u);
  EXPECT_EQ(call(lib.port(), "DELETE", lib.path(), "").status(), 401u);
  EXPECT_EQ(call(lib.port(), "DELETE", lib.path(), lib.viewer.token, "", as_viewer).status(), 403u);
  EXPECT_EQ(call(lib.port(), "DELETE", lib.path(), lib.stranger.token).status(), 404u);
  auto image = make_image(lib.scratch, "m.png", "green", "64x64");
  EXPECT_EQ(call(lib.port(), "PUT", lib.path(), lib.stranger.token, image, {{"Content-Type", "image/png"}}).status(),
            404u);
  EXPECT_EQ(lib.video().at("poster").at("version"), version);

  // A video that is not ready (here: failed) has no poster to choose.
  auto junk =
      call(lib.port(), "POST", "/api/videos", lib.owner.token, random_bytes(20000, 3), {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(junk.status(), 201u) << junk.raw.body();
  std::string failed = text(junk.json.at("video"), "id");
  auto v = wait_for_processing(lib.port(), lib.owner.token, failed);
  ASSERT_EQ(v.at("status"), "failed");
  auto r = call(lib.port(), "PUT", "/api/videos/" + failed + "/poster", lib.owner.token, body);
  EXPECT_EQ(r.status(), 409u) << r.raw.body();
  EXPECT_EQ(r.error_code(), "conflict");
}
