#include "media/ffmpeg.hpp"

#include "media/storyboard.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace reel::media {

namespace json = boost::json;

namespace {

double to_double(const json::value* v) {
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_string()) {
    try {
      return std::stod(std::string(v->as_string()));
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

double rate(const json::value* v) {
  if (!v || !v->is_string()) return 0;
  std::string s(v->as_string());
  auto slash = s.find('/');
  try {
    if (slash == std::string::npos) return std::stod(s);
    double num = std::stod(s.substr(0, slash)), den = std::stod(s.substr(slash + 1));
    return den > 0 ? num / den : 0;
  } catch (...) {
    return 0;
  }
}

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

int even(double v) { return std::max(2, static_cast<int>(std::lround(v / 2.0)) * 2); }

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

// The demuxers of real media containers (ffmpeg's -format_whitelist). None
// of them opens other files: not playlists or manifests (hls, dash,
// webm_dash_manifest), lists (concat), image sequences (image2, *_pipe) or
// anything that reads URLs. (mov follows external data references only with
// enable_drefs, off by default.)
constexpr std::string_view k_accepted_formats =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,mxf,dv,nut,h264,hevc,m4v";

bool is_one_of(std::string_view name, std::string_view list) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string out = buf;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

std::string pixel_count(std::int64_t n) {
  if (n < 1'000'000) return std::to_string(n);
  return number(std::round(static_cast<double>(n) / 100'000) / 10) + " million";
}

// "6 h", "1 h 30 min", "2 min 5 s", "45 s".
std::string duration_words(double seconds) {
  auto total = std::max<std::int64_t>(1, std::llround(seconds));
  std::int64_t h = total / 3600, m = total / 60 % 60, sec = total % 60;
  std::string out;
  auto add = [&out](std::int64_t n, const char* unit) {
    if (n == 0) return;
    out += (out.empty() ? "" : " ") + std::to_string(n) + " " + unit;
  };
  add(h, "h");
  add(m, "min");
  add(sec, "s");
  return out;
}

}  // namespace

std::string_view accepted_formats() { return k_accepted_formats; }

std::string demuxer_of(std::string_view format_name) {
  return std::string(format_name.substr(0, format_name.find(',')));
}

std::optional<std::string> refuse_format(std::string_view format_name) {
  std::string name = demuxer_of(format_name);
  if (!name.empty() && is_one_of(name, k_accepted_formats)) return std::nullopt;
  if (name == "hls" || name == "applehttp") return "This file is a playlist, not a video.";
  if (name == "dash" || name == "webm_dash_manifest" || name == "smoothstreaming")
    return "This file is a streaming manifest, not a video.";
  if (name == "concat") return "This file is a list of other files, not a video.";
  if (name.starts_with("image2") || name.ends_with("_pipe") || name == "gif" || name == "webp" || name == "apng" ||
      name == "jpegxl_anim" || name == "ico" || name == "fits" || name.ends_with("_pix"))
    return "This file is an image, not a video.";
  if (name == "mp3" || name == "wav" || name == "flac" || name == "aac" || name == "ac3" || name == "w64" ||
      name == "aiff" || name == "amr" || name == "ape" || name == "wv" || name == "caf")
    return "This file is audio, not a video.";
  if (name == "tty" || name == "srt" || name == "ass" || name == "webvtt" || name == "subviewer" || name == "sami" ||
      name == "microdvd" || name == "lrc" || name == "sup")
    return "This file is text or subtitles, not a video.";
  return "This file is not in a video format reel accepts.";
}

std::optional<std::string> check_limits(const probe_result& p, const limits& l) {
  // Scaled to even sizes for H.264 4:2:0, a 1-pixel side becomes 0.
  if (p.width < 2 || p.height < 2)
    return "The picture is too small (" + std::to_string(p.width) + "×" + std::to_string(p.height) +
           " pixels); a video needs at least 2 pixels each way.";
  auto pixels = static_cast<std::int64_t>(p.width) * p.height;
  if (pixels > l.max_pixels)
    return "The picture is too large (" + std::to_string(p.width) + "×" + std::to_string(p.height) +
           " pixels); this server accepts at most " + pixel_count(l.max_pixels) + " pixels a frame.";
  if (p.fps > l.max_fps)
    return "The frame rate is too high (" + number(p.fps) + " frames a second); this server accepts at most " +
           number(l.max_fps) + ".";
  if (p.duration_sec > l.max_seconds)
    return "The video is too long (" + duration_words(p.duration_sec) + "); this server accepts at most " +
           duration_words(l.max_seconds) + ".";
  return std::nullopt;
}

std::chrono::milliseconds transcode_timeout(const probe_result& p, const limits& l) {
  double seconds = std::clamp(p.duration_sec, 0.0, l.max_seconds);
  return std::chrono::milliseconds(600'000 + static_cast<std::int64_t>(seconds * 10'000));
}

probe_result parse_probe(std::string_view text) {
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec || !doc.is_object()) throw std::runtime_error("The file could not be read as a video.");
  probe_result p;
  const json::object* video = nullptr;
  const json::object* audio = nullptr;
  if (auto* streams = doc.as_object().if_contains("streams"); streams && streams->is_array()) {
    for (const auto& s : streams->as_array()) {
      if (!s.is_object()) continue;
      const auto& o = s.as_object();
      std::string type = str(o, "codec_type");
      // Cover art in audio files is a video stream with attached_pic set: not a video.
      bool attached_pic = false;
      if (auto* disp = o.if_contains("disposition"); disp && disp->is_object())
        if (auto* ap = disp->as_object().if_contains("attached_pic")) attached_pic = to_double(ap) != 0;
      if (type == "video" && !video && !attached_pic) video = &o;
      if (type == "audio" && !audio) audio = &o;
    }
  }
  if (!video) throw std::runtime_error("The file has no video stream.");
  p.video_codec = str(*video, "codec_name");
  p.pix_fmt = str(*video, "pix_fmt");
  int w = static_cast<int>(to_double(video->if_contains("width")));
  int h = static_cast<int>(to_double(video->if_contains("height")));
  if (w <= 0 || h <= 0) throw std::runtime_error("The video stream has no picture size.");
  // Rotation: the display matrix side data (ffmpeg 5) or the old "rotate" tag.
  double rotation = 0;
  if (auto* side = video->if_contains("side_data_list"); side && side->is_array())
    for (const auto& sd : side->as_array())
      if (sd.is_object())
        if (auto* r = sd.as_object().if_contains("rotation")) rotation = to_double(r);
  if (auto* tags = video->if_contains("tags"); tags && tags->is_object())
    if (auto* r = tags->as_object().if_contains("rotate")) rotation = to_double(r);
  p.rotation = ((static_cast<int>(std::lround(rotation)) % 360) + 360) % 360;
  bool sideways = p.rotation == 90 || p.rotation == 270;
  p.width = sideways ? h : w;
  p.height = sideways ? w : h;
  p.fps = rate(video->if_contains("avg_frame_rate"));
  if (p.fps <= 0) p.fps = rate(video->if_contains("r_frame_rate"));
  if (audio) p.audio_codec = str(*audio, "codec_name");
  if (auto* format = doc.as_object().if_contains("format"); format && format->is_object()) {
    p.format_name = str(format->as_object(), "format_name");
    p.duration_sec = to_double(format->as_object().if_contains("duration"));
    p.bit_rate = static_cast<std::int64_t>(to_double(format->as_object().if_contains("bit_rate")));
  }
  if (p.duration_sec <= 0) p.duration_sec = to_double(video->if_contains("duration"));
  if (!(p.duration_sec > 0)) throw std::runtime_error("The video has no duration; it may be a still image.");
  return p;
}

std::vector<rendition> plan_ladder(const probe_result& p) {
  static constexpr struct {
    int height, kbps;
  } rungs[] = {{240, 400}, {360, 800}, {480, 1400}, {720, 2800}, {1080, 5000}};
  const bool portrait = p.height > p.width;
  const int short_side = portrait ? p.width : p.height;
  const int long_side = portrait ? p.height : p.width;
  std::vector<rendition> out;
  auto add = [&](int short_px, int kbps) {
    int long_px = even(static_cast<double>(long_side) * short_px / short_side);
    out.push_back({std::to_string(short_px) + "p", portrait ? short_px : long_px, portrait ? long_px : short_px, kbps});
  };
  for (const auto& r : rungs) {
    if (r.height > short_side) break;
    add(r.height, r.kbps);
  }
  if (out.empty()) add(even(short_side), 300);
  return out;
}

bool can_remux(const probe_result& p) {
  return p.video_codec == "h264" && (p.pix_fmt == "yuv420p" || p.pix_fmt == "yuvj420p") &&
         (!p.audio_codec || *p.audio_codec == "aac") && p.rotation == 0;
}

namespace {

// The input options every command on an upload starts with: local files
// only, real containers only, and `format` forced when known.
void add_input_guards(std::vector<std::string>& a, std::string_view format) {
  a.insert(a.end(), {"-protocol_whitelist", "file", "-format_whitelist", std::string(k_accepted_formats)});
  if (!format.empty()) a.insert(a.end(), {"-f", demuxer_of(format)});
}

}  // namespace

std::vector<std::string> ffmpeg_command(const paths& tools) {
  return {tools.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y"};
}

std::vector<std::string> probe_command(const paths& tools, const std::string& input) {
  std::vector<std::string> a = {tools.ffprobe, "-v", "error"};
  add_input_guards(a, {});
  a.insert(a.end(), {"-print_format", "json", "-show_format", "-show_streams", input});
  return a;
}

double poster_time(const probe_result& p) { return std::min(5.0, p.duration_sec * 0.1); }

std::vector<std::string> frame_command(const paths& tools, const std::string& input, std::string_view input_format,
                                       double at_sec, std::optional<int> width, const std::string& output_jpg) {
  std::string scale = width ? "scale=" + std::to_string(*width) + ":-2" : "scale='min(1280,iw)':-2";
  const std::string threads = std::to_string(k_ffmpeg_threads);
  std::vector<std::string> a = ffmpeg_command(tools);
  a.insert(a.end(), {"-filter_threads", threads});
  add_input_guards(a, input_format);
  a.insert(a.end(), {"-threads", threads, "-ss", fmt(at_sec), "-i", input, "-frames:v", "1", "-vf", scale, "-q:v", "3",
                     "-f", "image2", output_jpg});
  return a;
}

std::vector<std::string> frame_command(const paths& tools, const std::string& input, double at_sec,
                                       std::optional<int> width, const std::string& output_jpg) {
  return frame_command(tools, input, {}, at_sec, width, output_jpg);
}

std::optional<still_format> sniff_still(std::string_view head) noexcept {
  if (head.size() >= 3 && head.substr(0, 3) == "\xFF\xD8\xFF") return still_format::jpeg;
  if (head.size() >= 8 && head.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8)) return still_format::png;
  return std::nullopt;
}

std::vector<std::string> still_command(const paths& tools, const std::string& input, still_format format,
                                       std::optional<int> width, const std::string& output_jpg) {
  const char* demuxer = format == still_format::png ? "png_pipe" : "jpeg_pipe";
  const std::string side = std::to_string(k_max_poster_side);
  std::string scale = width
                          ? "scale='min(" + std::to_string(*width) + ",iw)':-2"
                          : "scale='min(" + side + ",iw)':'min(" + side + ",ih)':force_original_aspect_ratio=decrease";
  std::vector<std::string> a = ffmpeg_command(tools);
  a.insert(a.end(), {"-protocol_whitelist",
                     "file",
                     "-format_whitelist",
                     "jpeg_pipe,png_pipe",
                     "-f",
                     demuxer,
                     "-max_pixels",
                     std::to_string(k_max_still_pixels),
                     "-threads",
                     "1",
                     "-i",
                     input,
                     "-frames:v",
                     "1",
                     "-vf",
                     scale,
                     "-map_metadata",
                     "-1",
                     "-q:v",
                     "3",
                     "-f",
                     "image2",
                     output_jpg});
  return a;
}

double poster_seek(double chosen, double duration_sec) { return std::max(0.0, std::min(chosen, duration_sec - 0.5)); }

std::vector<std::string> transcode_command(const paths& tools, const std::string& input, const probe_result& p,
                                           const std::vector<rendition>& ladder, const std::string& work_dir,
                                           const limits& l) {
  bool audio = p.audio_codec.has_value();
  bool remux = can_remux(p);
  std::size_t n = ladder.size();
  const std::string threads = std::to_string(k_ffmpeg_threads);
  std::vector<std::string> a = ffmpeg_command(tools);
  a.insert(a.end(), {"-filter_complex_threads", threads});
  add_input_guards(a, p.format_name);
  a.insert(a.end(), {"-threads", threads, "-t", fmt(l.max_seconds), "-i", input});

  // One decode, split for every encoded output and the storyboard.
  std::string graph = "[0:v:0]split=" + std::to_string(n + (remux ? 0 : 1) + 1);
  for (std::size_t i = 0; i < n; ++i) graph += "[s" + std::to_string(i) + "]";
  if (!remux) graph += "[sm]";
  graph += "[sb];[sb]" + storyboard_filter(plan_storyboard(p)) + "[vsb];";
  for (std::size_t i = 0; i < n; ++i)
    graph += "[s" + std::to_string(i) + "]scale=" + std::to_string(ladder[i].width) + ":" +
             std::to_string(ladder[i].height) + ",format=yuv420p[v" + std::to_string(i) + "];";
  if (!remux) graph += "[sm]scale=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p[vm];";
  graph.pop_back();
  a.insert(a.end(), {"-filter_complex", graph});

  // The faststart MP4.
  if (remux) {
    a.insert(a.end(), {"-map", "0:v:0"});
    if (audio) a.insert(a.end(), {"-map", "0:a:0"});
    a.insert(a.end(), {"-c", "copy"});
  } else {
    a.insert(a.end(), {"-map", "[vm]"});
    if (audio) a.insert(a.end(), {"-map", "0:a:0"});
    a.insert(a.end(),
             {"-c:v", "libx264", "-threads", threads, "-preset", "veryfast", "-crf", "23", "-profile:v", "high"});
    if (audio) a.insert(a.end(), {"-c:a", "aac", "-b:a", "128k", "-ac", "2"});
  }
  a.insert(a.end(), {"-movflags", "+faststart", "-f", "mp4", work_dir + "/video.mp4"});

  // The HLS ladder.
  std::string stream_map;
  for (std::size_t i = 0; i < n; ++i) {
    a.insert(a.end(), {"-map", "[v" + std::to_string(i) + "]"});
    if (audio) a.insert(a.end(), {"-map", "0:a:0"});
  }
  a.insert(a.end(), {"-c:v", "libx264", "-threads", threads, "-preset", "veryfast", "-profile:v", "main", "-level:v",
                     "4.2", "-sc_threshold", "0", "-force_key_frames", "expr:gte(t,n_forced*4)"});
  for (std::size_t i = 0; i < n; ++i) {
    std::string idx = std::to_string(i), kbps = std::to_string(ladder[i].video_kbps);
    a.insert(a.end(),
             {"-b:v:" + idx, kbps + "k", "-maxrate:v:" + idx, std::to_string(ladder[i].video_kbps * 3 / 2) + "k",
              "-bufsize:v:" + idx, std::to_string(ladder[i].video_kbps * 2) + "k"});
    stream_map += (i ? " " : "") + std::string("v:") + idx + (audio ? ",a:" + idx : "") + ",name:" + ladder[i].name;
  }
  if (audio) a.insert(a.end(), {"-c:a", "aac", "-b:a", "128k", "-ac", "2"});
  a.insert(a.end(), {"-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
                     "-hls_segment_type", "mpegts", "-hls_segment_filename", work_dir + "/hls/%v/seg_%03d.ts",
                     "-var_stream_map", stream_map, work_dir + "/hls/%v/index.m3u8"});
  // The storyboard's tiles, one MJPEG stream (media/storyboard: sheets_command tiles them).
  a.insert(a.end(),
           {"-map", "[vsb]", "-fps_mode", "passthrough", "-c:v", "mjpeg", "-threads", threads, "-q:v", "2", "-f",
            "mjpeg", work_dir + "/" + std::string(k_storyboard_dir) + "/" + std::string(k_storyboard_tiles)});
  a.insert(a.end(), {"-progress", "pipe:1", "-nostats"});
  return a;
}

std::vector<std::string> early_command(const paths& tools, const std::string& input, const probe_result& p,
                                       const std::string& early_dir, const limits& l) {
  std::vector<std::string> a = ffmpeg_command(tools);
  add_input_guards(a, p.format_name);
  a.insert(a.end(), {"-t", fmt(l.max_seconds), "-i", input, "-map", "0:v:0"});
  if (p.audio_codec) a.insert(a.end(), {"-map", "0:a:0"});
  a.insert(a.end(), {"-c", "copy", "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "event", "-hls_flags",
                     "temp_file", "-hls_segment_type", "mpegts", "-hls_segment_filename", early_dir + "/seg_%03d.ts",
                     early_dir + "/index.m3u8"});
  return a;
}

std::string early_master_playlist(std::int64_t width, std::int64_t height, double duration_sec,
                                  std::int64_t size_bytes) {
  double bits_per_sec = duration_sec > 0 ? static_cast<double>(size_bytes) * 8 / duration_sec : 0;
  auto bandwidth = std::max<std::int64_t>(static_cast<std::int64_t>(bits_per_sec), 1);
  return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(bandwidth) +
         ",RESOLUTION=" + std::to_string(width) + "x" + std::to_string(height) + "\n" + std::string(k_early_rendition) +
         "/index.m3u8\n";
}

double playlist_duration(std::string_view playlist) {
  double total = 0;
  while (!playlist.empty()) {
    auto nl = playlist.find('\n');
    std::string_view line = playlist.substr(0, nl);
    playlist = nl == std::string_view::npos ? std::string_view{} : playlist.substr(nl + 1);
    if (line.starts_with("#EXTINF:")) total += std::atof(std::string(line.substr(8)).c_str());
  }
  return total;
}

std::optional<std::string> check_output_duration(double probed_sec, double output_sec) {
  // 2 %, and at least a tenth of a second for very short clips (a frame or an audio packet).
  double allowed = std::max(probed_sec * 0.02, 0.1);
  if (probed_sec - output_sec > allowed) return "The file ends early: it may be truncated.";
  return std::nullopt;
}

std::vector<std::string> playlist_segments(std::string_view playlist) {
  std::vector<std::string> out;
  while (!playlist.empty()) {
    auto nl = playlist.find('\n');
    std::string_view line = playlist.substr(0, nl);
    playlist = nl == std::string_view::npos ? std::string_view{} : playlist.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (!line.empty() && line.front() != '#') out.emplace_back(line);
  }
  return out;
}

segment_stats measure_playlist(std::string_view playlist, const std::vector<std::uint64_t>& segment_sizes) {
  std::vector<double> durations;
  std::string_view rest = playlist;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.starts_with("#EXTINF:")) durations.push_back(std::atof(std::string(line.substr(8)).c_str()));
  }
  segment_stats s;
  double total_bits = 0, total_sec = 0;
  for (std::size_t i = 0; i < durations.size() && i < segment_sizes.size(); ++i) {
    double bits = static_cast<double>(segment_sizes[i]) * 8;
    total_bits += bits;
    total_sec += durations[i];
    if (durations[i] > 0.5) s.peak_bps = std::max(s.peak_bps, static_cast<std::int64_t>(bits / durations[i]));
  }
  if (total_sec > 0) s.average_bps = static_cast<std::int64_t>(total_bits / total_sec);
  if (s.peak_bps == 0) s.peak_bps = s.average_bps;
  return s;
}

std::string master_playlist(const std::vector<rendition>& ladder, const std::vector<std::int64_t>& peak_bps,
                            const std::vector<std::int64_t>& average_bps, bool has_audio) {
  std::string m = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  // Main profile, level 4.2 (what transcode_command asks of libx264); AAC-LC.
  std::string codecs = has_audio ? "avc1.4d402a,mp4a.40.2" : "avc1.4d402a";
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    m += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(std::max<std::int64_t>(peak_bps[i], 1)) +
         ",AVERAGE-BANDWIDTH=" + std::to_string(std::max<std::int64_t>(average_bps[i], 1)) +
         ",RESOLUTION=" + std::to_string(ladder[i].width) + "x" + std::to_string(ladder[i].height) + ",CODECS=\"" +
         codecs + "\"\n" + ladder[i].name + "/index.m3u8\n";
  }
  return m;
}

bool progress_parser::feed(std::string_view line) {
  auto eq = line.find('=');
  if (eq == std::string_view::npos) return false;
  std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
  if (key == "out_time_us" || key == "out_time_ms") {
    if (value != "N/A") {
      double us = std::atof(std::string(value).c_str());
      if (us > 0) out_time_sec_ = us / 1e6;
    }
  } else if (key == "progress") {
    if (value == "end") ended_ = true;
    return true;
  }
  return false;
}

double progress_parser::percent() const noexcept {
  if (ended_) return 100;
  if (duration_ <= 0) return 0;
  return std::clamp(100.0 * out_time_sec_ / duration_, 0.0, 99.0);
}

}  // namespace reel::media
