// Test clips made with ffmpeg's lavfi sources, and waiting for processing.
#pragma once

#include "support/api.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace reel::test {

struct clip_options {
  int seconds = 2;
  int width = 320, height = 240;
  bool audio = true;
  std::string video_codec = "libx264";  // "mpeg4" makes a clip that must be re-encoded
  int rotate = 0;                       // display rotation metadata (90 = a phone held upright)
  std::string bitrate;                  // e.g. "8M" for a large file
};

namespace detail {

// FNV-1a: a name for a clip's recipe that is the same in every process.
inline std::string recipe_name(const std::string& recipe) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : recipe) h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace detail

// Makes the clip at `path` and returns its bytes. ffmpeg encodes each recipe
// once per build (the suites run three times, and many tests want the same
// clip): the result is kept in test-clips/ beside the test binary, and later
// calls copy it. A file is only ever renamed into the cache whole.
inline std::string make_clip(const std::string& path, const clip_options& o = {}) {
  namespace fs = std::filesystem;
  std::string cmd = "ffmpeg -v error -y -f lavfi -i testsrc2=size=" + std::to_string(o.width) + "x" +
                    std::to_string(o.height) + ":rate=25:duration=" + std::to_string(o.seconds);
  if (o.audio) cmd += " -f lavfi -i sine=frequency=440:duration=" + std::to_string(o.seconds);
  cmd += " -c:v " + o.video_codec + " -pix_fmt yuv420p";
  if (!o.bitrate.empty())  // constant bitrate with filler, so the file really is that big
    cmd += " -b:v " + o.bitrate + " -minrate " + o.bitrate + " -maxrate " + o.bitrate + " -bufsize " + o.bitrate +
           " -x264-params nal-hrd=cbr";
  if (o.audio) cmd += " -c:a aac -shortest";
  std::string recipe = o.rotate ? cmd + " rotate=" + std::to_string(o.rotate) : cmd;
  fs::path cached =
      fs::read_symlink("/proc/self/exe").parent_path() / "test-clips" / (detail::recipe_name(recipe) + ".mp4");
  if (!fs::is_regular_file(cached)) {
    fs::create_directories(cached.parent_path());
    // Made beside the cache entry under a name of this process, then renamed.
    std::string made = cached.string() + "." + std::to_string(::getpid());
    // ffmpeg 5.1 writes a rotation (display matrix) only when copying streams.
    std::string encoded = o.rotate ? made + ".pre.mp4" : made;
    cmd += " -f mp4 " + encoded;
    if (o.rotate)
      cmd += " && ffmpeg -v error -y -i " + encoded + " -c copy -metadata:s:v:0 rotate=" + std::to_string(o.rotate) +
             " -f mp4 " + made + " && rm -f " + encoded;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("ffmpeg could not make " + path);
    fs::rename(made, cached);
  }
  fs::copy_file(cached, path, fs::copy_options::overwrite_existing);
  return read_file(path);
}

// Polls GET /api/videos/:id until its status is ready or failed; returns the video.
inline boost::json::value wait_for_processing(unsigned short port, const std::string& token, const std::string& id,
                                              std::chrono::seconds timeout = std::chrono::seconds(90),
                                              const std::map<std::string, std::string>& headers = {}) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = call(port, "GET", "/api/videos/" + id, token, "", headers);
    if (r.status() == 200) {
      auto status = r.json.at("video").at("status").as_string();
      if (status == "ready" || status == "failed") return r.json.at("video");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("video " + id + " was not processed in time");
}

// Uploads `bytes` as one raw body (POST /api/videos) and returns the new video's id.
inline std::string upload_clip(unsigned short port, const account& a, const std::string& bytes,
                               const std::string& type = "video/mp4") {
  auto r = call(port, "POST", "/api/videos", a.token, bytes, {{"Content-Type", type}});
  if (r.status() != 201) throw std::runtime_error(r.raw.body());
  return std::string(r.json.at("video").at("id").as_string());
}

// Runs a shell command and returns its stdout.
inline std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace reel::test
