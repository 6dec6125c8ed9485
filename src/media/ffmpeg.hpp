// What reel asks of ffprobe and ffmpeg: parsing a probe, planning the
// outputs (faststart MP4, HLS ladder, poster), building the argv of each
// command, and reading `-progress pipe:1`. Pure functions, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::media {

struct probe_result {
  double duration_sec = 0;
  int width = 0, height = 0;  // as displayed (rotation applied)
  int rotation = 0;           // degrees the player turns the picture
  std::string video_codec, pix_fmt;
  std::optional<std::string> audio_codec;
  std::int64_t bit_rate = 0;
  double fps = 0;
  std::string format_name;  // ffprobe's, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
};

// Parses `ffprobe -print_format json -show_format -show_streams`. Throws
// std::runtime_error with a reason in words for a file that is not a
// usable video ("The file has no video stream.", ...).
probe_result parse_probe(std::string_view json);

// Uploads are opened only as real media containers. A playlist, manifest or
// list (HLS, DASH, ffconcat, ...) names other files, which ffmpeg would read:
// another organization's through ../ paths. Every command reel runs on an
// upload carries `-protocol_whitelist file` and `-format_whitelist` with
// these demuxers (ffprobe's names; a demuxer matches when one of its names is
// listed), and the transcode and frame commands force the probed one (`-f`).
std::string_view accepted_formats();
// Why a probed container (`format_name`, or the demuxer's name ffmpeg
// logged when refusing one) is not accepted, in words ("This file is a
// playlist, not a video."); nullopt when it is accepted.
std::optional<std::string> refuse_format(std::string_view format_name);
// The demuxer to force with -f: the first of ffprobe's names ("mov" for
// "mov,mp4,m4a,3gp,3g2,mj2").
std::string demuxer_of(std::string_view format_name);

// What a source may be, checked right after the probe (REEL_MAX_VIDEO_*).
struct limits {
  std::int64_t max_pixels = 4096LL * 2304;  // width × height of a frame
  double max_fps = 120;
  double max_seconds = 6 * 3600;
};
// Why the probed source exceeds the limits (or is below 2 pixels a side,
// which cannot be scaled), in words; nullopt when it does not.
std::optional<std::string> check_limits(const probe_result& p, const limits& l);
// How long the transcode may run: 10 minutes plus 10 s per second of video,
// with the probed duration clamped to the limit (a file's claim can only
// shorten it). A source that decodes for longer than it claimed is stopped.
std::chrono::milliseconds transcode_timeout(const probe_result& p, const limits& l);

struct rendition {
  std::string name;  // "360p"
  int width = 0, height = 0;
  int video_kbps = 0;
};

// The ladder: rungs among 240p/360p/480p/720p/1080p at or below the
// source's shorter side, as displayed (one rung at the source size when it
// is smaller than 240p). A rung's number is its shorter side, so a portrait
// (9:16) 1080p rung is 1080x1920, not 608x1080; the other side keeps the
// source's aspect ratio (rounded to even), so no bars are added.
std::vector<rendition> plan_ladder(const probe_result& p);

// True when the source is H.264 (yuv420p) with AAC or no audio and shown as
// stored (no rotation): the MP4 is made by copying streams, not by encoding.
// A rotated source is encoded, so that every output has upright pixels and
// no player depends on honouring a rotation flag.
bool can_remux(const probe_result& p);

struct paths {
  std::string ffmpeg, ffprobe;
};

// The start of every ffmpeg command: quiet but for errors, no stdin,
// overwriting its outputs. The caller appends the rest.
std::vector<std::string> ffmpeg_command(const paths& tools);

// ffprobe of an upload, limited to accepted_formats() and local files.
std::vector<std::string> probe_command(const paths& tools, const std::string& input);

// The seek time of the poster: 10% into the video, at most 5 s.
double poster_time(const probe_result& p);
// A JPEG frame of `input`, opened as `input_format` (ffprobe's format_name
// of it) and limited like probe_command; at most k_ffmpeg_threads threads.
std::vector<std::string> frame_command(const paths& tools, const std::string& input, std::string_view input_format,
                                       double at_sec, std::optional<int> width, const std::string& output_jpg);
// The same for an input whose format was not probed (the on-demand
// thumbnails of reel's own MP4): the whitelists only, the demuxer detected.
std::vector<std::string> frame_command(const paths& tools, const std::string& input, double at_sec,
                                       std::optional<int> width, const std::string& output_jpg);

// Posters (PUT /api/videos/:id/poster): an uploaded JPEG or PNG is decoded
// and written again as a JPEG, never served as uploaded.
enum class still_format { jpeg, png };
// The format of an image by its first bytes (JPEG: FF D8 FF; PNG: its
// 8-byte signature), or nullopt.
std::optional<still_format> sniff_still(std::string_view head) noexcept;
// The largest side of a poster made from an uploaded image, and the most
// pixels an uploaded image may have (larger ones are refused by the decoder).
inline constexpr int k_max_poster_side = 1920;
inline constexpr long k_max_still_pixels = 40'000'000;
// ffmpeg decoding the image `input` (a local file, opened as `format` only)
// and writing it as a JPEG without metadata into `output_jpg`: `width` wide
// (at most the image's own width) when given, else scaled down to fit
// k_max_poster_side on both sides.
std::vector<std::string> still_command(const paths& tools, const std::string& input, still_format format,
                                       std::optional<int> width, const std::string& output_jpg);
// Where a chosen poster time is taken: `chosen`, but at least half a second
// before the end (a seek to the very end finds no frame).
double poster_seek(double chosen, double duration_sec);

// One ffmpeg run that decodes once and writes, into `work_dir`: the
// faststart MP4 `video.mp4` (stream copy when can_remux, else encoded) and
// the HLS renditions `hls/<name>/index.m3u8` + `seg_NNN.ts` (4 s segments),
// and the storyboard's tiles `storyboard/tiles.mjpeg` (media/storyboard;
// the directory must exist). The video is decoded even when the MP4 is a
// copy (the ladder is always encoded), so the storyboard costs no decode.
// The input is opened as the probed format and read for at most
// `l.max_seconds`; decoders and encoders use at most k_ffmpeg_threads
// threads each, so that memory does not grow with the machine's CPUs.
std::vector<std::string> transcode_command(const paths& tools, const std::string& input, const probe_result& p,
                                           const std::vector<rendition>& ladder, const std::string& work_dir,
                                           const limits& l = {});
inline constexpr int k_ffmpeg_threads = 4;

// Early playback (docs/API.md "Early playback"): a source that can_remux is
// first cut by stream copy into HLS segments in the video's directory
// `k_early_dir` (seconds even for a long file), offered as the rendition
// `k_early_rendition` of a master of its own while the ladder is made.
inline constexpr std::string_view k_early_dir = "early";
inline constexpr std::string_view k_early_rendition = "source";
// The stream copy into `early_dir`/index.m3u8 + seg_NNN.ts: an EVENT
// playlist that lists each segment once it is whole (segments are written
// as .tmp and renamed), ended by EXT-X-ENDLIST. Input guarded and limited
// as in transcode_command.
std::vector<std::string> early_command(const paths& tools, const std::string& input, const probe_result& p,
                                       const std::string& early_dir, const limits& l = {});
// The master playlist offering the early rendition of a `width`x`height`
// source: its bandwidth is the source's average (`size_bytes` over
// `duration_sec`, at least 1).
std::string early_master_playlist(std::int64_t width, std::int64_t height, double duration_sec,
                                  std::int64_t size_bytes);

// The master playlist for the ladder; `peak_bps`/`average_bps` measured
// from the segments (one per rendition).
std::string master_playlist(const std::vector<rendition>& ladder, const std::vector<std::int64_t>& peak_bps,
                            const std::vector<std::int64_t>& average_bps, bool has_audio);

// Measures a rendition from its media playlist and segment sizes:
// {peak, average} bits per second.
struct segment_stats {
  std::int64_t peak_bps = 0, average_bps = 0;
};
segment_stats measure_playlist(std::string_view playlist, const std::vector<std::uint64_t>& segment_sizes);
// The total of a media playlist's segment durations (#EXTINF), in seconds.
double playlist_duration(std::string_view playlist);
// Why an output of `output_sec` seconds is not a whole transcode of a
// source probed at `probed_sec`: more than 2 % short (and more than 0.1 s,
// a frame or an audio packet of a very short clip) means ffmpeg stopped at
// a decode error (it exits 0 after those), e.g. in a truncated file whose
// index claims the whole duration. In words; nullopt when it is whole.
std::optional<std::string> check_output_duration(double probed_sec, double output_sec);
// The segment file names a media playlist lists, in order.
std::vector<std::string> playlist_segments(std::string_view playlist);

// Reads `-progress pipe:1` lines; percent() after each block.
class progress_parser {
 public:
  explicit progress_parser(double duration_sec) : duration_(duration_sec) {}
  // Feeds one line; returns true when a block ended (progress=continue|end).
  bool feed(std::string_view line);
  double percent() const noexcept;  // 0..100; 100 only after progress=end
  bool ended() const noexcept { return ended_; }

 private:
  double duration_;
  double out_time_sec_ = 0;
  bool ended_ = false;
};

}  // namespace reel::media
