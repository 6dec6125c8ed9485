#include "media/storyboard.hpp"

#include "media/hls_playlist.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace reel::media {

namespace {

constexpr int k_tile_width = 160;
constexpr int k_max_tile_height = 320;
constexpr int k_max_columns = 10, k_max_rows = 10;

// Rounded to an even number of pixels, at least 2 (as the ladder's sizes).
int even_pixels(double v) { return std::max(2, static_cast<int>(std::lround(v / 2.0)) * 2); }

// "HH:MM:SS.mmm" (WebVTT timestamps).
std::string timestamp(double seconds) {
  auto ms = std::max<long long>(0, std::llround(seconds * 1000));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", ms / 3'600'000, ms / 60'000 % 60, ms / 1000 % 60,
                ms % 1000);
  return buf;
}

}  // namespace

storyboard_plan plan_storyboard(const probe_result& p) {
  storyboard_plan plan;
  double duration = p.duration_sec > 0 ? p.duration_sec : 0;
  plan.interval_sec = std::clamp(static_cast<int>(std::lround(duration / 100)), 2, 10);
  int w = std::max(p.width, 1), h = std::max(p.height, 1);
  plan.tile_width = k_tile_width;
  plan.tile_height = even_pixels(static_cast<double>(k_tile_width) * h / w);
  if (plan.tile_height > k_max_tile_height) {
    plan.tile_height = k_max_tile_height;
    plan.tile_width = even_pixels(static_cast<double>(k_max_tile_height) * w / h);
  }
  // A last stretch under a millisecond (a WebVTT timestamp's unit) gets no tile of its own.
  plan.tiles = std::max(1, static_cast<int>(std::ceil((duration - 0.001) / plan.interval_sec)));
  plan.columns = std::min(k_max_columns, plan.tiles);
  plan.rows = std::min(k_max_rows, (plan.tiles + plan.columns - 1) / plan.columns);
  return plan;
}

std::string storyboard_filter(const storyboard_plan& plan) {
  std::string interval = std::to_string(plan.interval_sec);
  std::string padding = std::to_string(2 * plan.interval_sec);
  return "tpad=stop_mode=clone:stop_duration=" + padding + ",fps=1/" + interval +
         ",scale=" + std::to_string(plan.tile_width) + ":" + std::to_string(plan.tile_height) +
         ",trim=end_frame=" + std::to_string(plan.tiles);
}

std::vector<std::string> sheets_command(const paths& tools, const storyboard_plan& plan,
                                        const std::string& storyboard_dir) {
  std::string tile = "tile=" + std::to_string(plan.columns) + "x" + std::to_string(plan.rows);
  return {tools.ffmpeg,
          "-hide_banner",
          "-nostdin",
          "-v",
          "error",
          "-y",
          "-protocol_whitelist",
          "file",
          "-f",
          "mjpeg",
          "-i",
          storyboard_dir + "/" + std::string(k_storyboard_tiles),
          "-vf",
          tile,
          "-fps_mode",
          "passthrough",
          "-c:v",
          "mjpeg",
          "-q:v",
          "5",
          "-f",
          "image2",
          storyboard_dir + "/sprite-%03d.jpg"};
}

std::string sprite_name(int sheet) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sprite-%03d.jpg", sheet);
  return buf;
}

std::optional<int> parse_sprite_name(std::string_view name) {
  constexpr std::string_view prefix = "sprite-", suffix = ".jpg";
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() < 3 || digits.size() > 4) return std::nullopt;
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || sprite_name(n) != name) return std::nullopt;  // one spelling per sheet: no "sprite-0001.jpg"
  return n;
}

std::string storyboard_vtt(const storyboard_plan& plan, double duration_sec, int sheets_written) {
  std::string out = "WEBVTT\n";
  int per_sheet = plan.columns * plan.rows;
  int tiles = std::min(plan.tiles, std::max(0, sheets_written) * per_sheet);
  double end_of_video = std::max(duration_sec, 0.001);
  for (int i = 0; i < tiles; ++i) {
    double start = static_cast<double>(i) * plan.interval_sec;
    if (i > 0 && start >= end_of_video) break;
    double end = i + 1 == tiles ? end_of_video : std::min(end_of_video, start + plan.interval_sec);
    int sheet = i / per_sheet + 1, at = i % per_sheet;
    int x = at % plan.columns * plan.tile_width, y = at / plan.columns * plan.tile_height;
    out += "\n" + timestamp(start) + " --> " + timestamp(end) + "\nstoryboard/" + sprite_name(sheet) +
           "#xywh=" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(plan.tile_width) + "," +
           std::to_string(plan.tile_height) + "\n";
  }
  return out;
}

std::string add_query_to_storyboard(std::string_view vtt, std::string_view parameter) {
  std::string out;
  out.reserve(vtt.size() + vtt.size() / 2 + 64);
  bool in_payload = false;  // the lines after a cue's timing line, up to a blank line
  bool in_comment = false;  // a NOTE, STYLE or REGION block, up to a blank line
  bool block_start = true;
  std::size_t pos = 0;
  while (pos < vtt.size()) {
    std::size_t nl = vtt.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? vtt.size() : nl;
    std::string_view line = vtt.substr(pos, end - pos);
    std::string_view ending;
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
      ending = "\r";
    }
    bool blank = line.find_first_not_of(" \t") == std::string_view::npos;
    if (blank) {
      in_payload = in_comment = false;
      block_start = true;
      out.append(line);
    } else if (in_payload) {
      append_query_parameter(out, line, parameter);
    } else {
      if (block_start) in_comment = line.starts_with("NOTE") || line.starts_with("STYLE") || line.starts_with("REGION");
      block_start = false;
      out.append(line);
      in_payload = !in_comment && line.find("-->") != std::string_view::npos;
    }
    out.append(ending);
    if (nl != std::string_view::npos) out.push_back('\n');
    pos = end + 1;
  }
  return out;
}

}  // namespace reel::media
