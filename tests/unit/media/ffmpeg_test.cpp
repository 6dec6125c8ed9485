#include "media/ffmpeg.hpp"
#include "media/rung_mp4.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace reel::media;

namespace {
const char* k_probe = R"({
  "streams": [
    {"codec_type": "video", "codec_name": "h264", "pix_fmt": "yuv420p", "width": 1920, "height": 1080,
     "avg_frame_rate": "30000/1001", "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]},
    {"codec_type": "audio", "codec_name": "aac"}
  ],
  "format": {"duration": "12.480000", "bit_rate": "5000000"}
})";
}

TEST(parse_probe, reads_duration_codecs_and_applies_rotation) {
  auto p = parse_probe(k_probe);
  EXPECT_DOUBLE_EQ(p.duration_sec, 12.48);
  EXPECT_EQ(p.rotation, 270);
  EXPECT_EQ(p.width, 1080);  // displayed upright
  EXPECT_EQ(p.height, 1920);
  EXPECT_EQ(p.video_codec, "h264");
  EXPECT_EQ(p.audio_codec, "aac");
  EXPECT_NEAR(p.fps, 29.97, 0.01);
  EXPECT_FALSE(can_remux(p));  // turned: encoded upright, not copied with its rotation flag
  p.rotation = 0;
  EXPECT_TRUE(can_remux(p));
}

TEST(parse_probe, refuses_what_is_not_a_video) {
  auto reason = [](const char* json) {
    try {
      parse_probe(json);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(reason(R"({"streams":[{"codec_type":"audio","codec_name":"mp3"}],"format":{"duration":"3"}})"),
            "The file has no video stream.");
  EXPECT_EQ(reason(R"({"streams":[{"codec_type":"video","codec_name":"mjpeg","width":10,"height":10,
                       "disposition":{"attached_pic":1}},{"codec_type":"audio"}],"format":{"duration":"3"}})"),
            "The file has no video stream.");
  EXPECT_NE(reason(R"({"streams":[{"codec_type":"video","codec_name":"png","width":10,"height":10}],"format":{}})"),
            "");
  EXPECT_NE(reason("not json"), "");
}

TEST(plan_ladder, rungs_at_or_below_the_source_height) {
  probe_result p;
  p.width = 1280;
  p.height = 720;
  auto l = plan_ladder(p);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].name, "240p");
  EXPECT_EQ(l[0].width, 426);
  EXPECT_EQ(l[3].name, "720p");
  EXPECT_EQ(l[3].width, 1280);
  p.width = 160;
  p.height = 120;
  auto tiny = plan_ladder(p);
  ASSERT_EQ(tiny.size(), 1u);
  EXPECT_EQ(tiny[0].height, 120);
  p.width = 3840;
  p.height = 2160;
  EXPECT_EQ(plan_ladder(p).back().name, "1080p");
}

TEST(plan_ladder, a_portrait_source_is_laddered_by_its_shorter_side) {
  probe_result p;
  p.width = 1080;  // a phone held upright, 9:16
  p.height = 1920;
  auto l = plan_ladder(p);
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l.back().name, "1080p");
  EXPECT_EQ(l.back().width, 1080);
  EXPECT_EQ(l.back().height, 1920);
  EXPECT_EQ(l.front().name, "240p");
  EXPECT_EQ(l.front().width, 240);
  EXPECT_EQ(l.front().height, 426);
  for (const auto& r : l) {  // the source's shape, no bars: 9:16 within rounding to even
    EXPECT_EQ(r.width % 2, 0);
    EXPECT_EQ(r.height % 2, 0);
    EXPECT_NEAR(double(r.width) / r.height, 9.0 / 16.0, 0.01) << r.name;
  }
  p.width = 272;  // small and upright: one rung, 240 wide
  p.height = 480;
  l = plan_ladder(p);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].name, "240p");
  EXPECT_EQ(l[0].width, 240);
  EXPECT_EQ(l[0].height, 424);
  p.width = 120;  // smaller than any rung: its own size
  p.height = 200;
  l = plan_ladder(p);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].width, 120);
  EXPECT_EQ(l[0].height, 200);
  p.width = p.height = 720;  // square: both sides the rung's
  EXPECT_EQ(plan_ladder(p).back().width, 720);
  EXPECT_EQ(plan_ladder(p).back().height, 720);
}

TEST(can_remux, only_h264_with_aac_or_no_audio) {
  probe_result p;
  p.video_codec = "h264";
  p.pix_fmt = "yuv420p";
  EXPECT_TRUE(can_remux(p));
  p.audio_codec = "opus";
  EXPECT_FALSE(can_remux(p));
  p.audio_codec = "aac";
  p.pix_fmt = "yuv422p10le";
  EXPECT_FALSE(can_remux(p));
  p.pix_fmt = "yuv420p";
  p.video_codec = "hevc";
  EXPECT_FALSE(can_remux(p));
  p.video_codec = "h264";
  p.rotation = 90;
  EXPECT_FALSE(can_remux(p));
}

TEST(transcode_command, one_decode_feeds_mp4_and_every_rung) {
  probe_result p;
  p.width = 640;
  p.height = 360;
  p.video_codec = "mpeg4";
  p.pix_fmt = "yuv420p";
  auto ladder = plan_ladder(p);
  auto argv = transcode_command({"/bin/ffmpeg", "/bin/ffprobe"}, "/in", p, ladder, "/w");
  std::string all;
  for (auto& a : argv) all += a + " ";
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-i"), 1);
  EXPECT_NE(all.find("split=4[s0][s1][sm][sb]"), std::string::npos) << all;
  // The storyboard is a branch of the same decode, written as JPEG sheets.
  EXPECT_NE(all.find("[sb]tpad=stop_mode=clone:stop_duration=4,fps=1/2,scale=160:90,trim=end_frame=1[vsb]"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("-map [vsb] -fps_mode passthrough -c:v mjpeg"), std::string::npos) << all;
  EXPECT_EQ(argv.back(), "-nostats");
  // Tiles, not sheets: a tile filter here would hold back every output until its first sheet is full.
  EXPECT_EQ(all.find("tile="), std::string::npos) << all;
  EXPECT_NE(std::find(argv.begin(), argv.end(), "/w/storyboard/tiles.mjpeg"), argv.end());
  EXPECT_NE(all.find("-var_stream_map v:0,name:240p v:1,name:360p"), std::string::npos) << all;
  EXPECT_NE(all.find("-movflags +faststart"), std::string::npos);
  EXPECT_NE(all.find("-progress pipe:1"), std::string::npos);
  p.video_codec = "h264";
  p.audio_codec = "aac";
  auto remux = transcode_command({"/bin/ffmpeg", "/bin/ffprobe"}, "/in", p, ladder, "/w");
  std::string r;
  for (auto& a : remux) r += a + " ";
  EXPECT_NE(r.find("-c copy"), std::string::npos);
  EXPECT_NE(r.find("v:0,a:0,name:240p v:1,a:1,name:360p"), std::string::npos) << r;
  // A copied MP4 needs no branch of its own; the ladder and the storyboard still share the decode.
  EXPECT_NE(r.find("split=3[s0][s1][sb]"), std::string::npos) << r;
  EXPECT_EQ(std::count(remux.begin(), remux.end(), "-i"), 1);
}

TEST(progress_parser, percent_from_out_time_and_100_only_at_the_end) {
  progress_parser p(10.0);
  EXPECT_FALSE(p.feed("frame=10"));
  EXPECT_FALSE(p.feed("out_time_us=2500000"));
  EXPECT_TRUE(p.feed("progress=continue"));
  EXPECT_DOUBLE_EQ(p.percent(), 25);
  p.feed("out_time_us=N/A");
  p.feed("out_time_us=99000000");
  p.feed("progress=continue");
  EXPECT_DOUBLE_EQ(p.percent(), 99);
  p.feed("progress=end");
  EXPECT_DOUBLE_EQ(p.percent(), 100);
}

TEST(playlists, bandwidth_is_measured_from_segments) {
  std::string media =
      "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000000,\nseg_000.ts\n#EXTINF:2.000000,\nseg_001.ts\n"
      "#EXT-X-ENDLIST\n";
  EXPECT_EQ(playlist_segments(media), (std::vector<std::string>{"seg_000.ts", "seg_001.ts"}));
  auto s = measure_playlist(media, {500'000, 500'000});
  EXPECT_EQ(s.peak_bps, 2'000'000);     // 500 kB in 2 s
  EXPECT_EQ(s.average_bps, 1'333'333);  // 1 MB in 6 s
  std::vector<rendition> ladder = {{"240p", 426, 240, 400}, {"360p", 640, 360, 800}};
  auto m = master_playlist(ladder, {600'000, 1'000'000}, {500'000, 900'000}, false);
  EXPECT_EQ(m.rfind("#EXTM3U\n", 0), 0u);
  EXPECT_NE(
      m.find("BANDWIDTH=600000,AVERAGE-BANDWIDTH=500000,RESOLUTION=426x240,CODECS=\"avc1.4d402a\"\n240p/index.m3u8"),
      std::string::npos)
      << m;
}

namespace {
// The value after `flag` in argv ("" when absent), and where it is.
std::ptrdiff_t index_of(const std::vector<std::string>& argv, const std::string& arg) {
  auto it = std::find(argv.begin(), argv.end(), arg);
  return it == argv.end() ? -1 : it - argv.begin();
}
std::string after(const std::vector<std::string>& argv, const std::string& flag) {
  auto i = index_of(argv, flag);
  return i < 0 || i + 1 >= static_cast<std::ptrdiff_t>(argv.size()) ? "" : argv[i + 1];
}
// Security issue, item 2: every command on an upload is limited to local
// files and real containers, before its input.
void expect_input_guards(const std::vector<std::string>& argv) {
  auto input = index_of(argv, "-i");
  if (input < 0) input = static_cast<std::ptrdiff_t>(argv.size()) - 1;  // ffprobe: the input is last
  EXPECT_EQ(after(argv, "-protocol_whitelist"), "file");
  EXPECT_EQ(after(argv, "-format_whitelist"), std::string(accepted_formats()));
  EXPECT_LT(index_of(argv, "-protocol_whitelist"), input);
  EXPECT_LT(index_of(argv, "-format_whitelist"), input);
  EXPECT_GE(index_of(argv, "-protocol_whitelist"), 0);
}
const paths k_tools{"/bin/ffmpeg", "/bin/ffprobe"};
}  // namespace

TEST(probe_command, allows_only_local_files_and_real_containers) {
  auto argv = probe_command(k_tools, "/data/in");
  expect_input_guards(argv);
  EXPECT_EQ(argv.front(), "/bin/ffprobe");
  EXPECT_EQ(argv.back(), "/data/in");
}

TEST(frame_command, forces_the_probed_demuxer_and_allows_only_local_real_containers) {
  auto argv = frame_command(k_tools, "/data/in", "mov,mp4,m4a,3gp,3g2,mj2", 1.5, 160, "/out.jpg");
  expect_input_guards(argv);
  EXPECT_EQ(after(argv, "-f"), "mov");
  EXPECT_LT(index_of(argv, "-f"), index_of(argv, "-i"));
  EXPECT_EQ(after(argv, "-i"), "/data/in");
  EXPECT_EQ(after(argv, "-threads"), std::to_string(k_ffmpeg_threads));
  EXPECT_EQ(argv.back(), "/out.jpg");
  // The on-demand thumbnails' overload (no probed format): the whitelists still apply.
  auto unprobed = frame_command(k_tools, "/data/video.mp4", 2.0, std::nullopt, "/out.jpg");
  expect_input_guards(unprobed);
  EXPECT_EQ(after(unprobed, "-f"), "image2");  // only the output's
  EXPECT_GT(index_of(unprobed, "-f"), index_of(unprobed, "-i"));
}

TEST(transcode_command, forces_the_probed_demuxer_reads_at_most_the_limit_and_bounds_threads) {
  probe_result p;
  p.width = 1280;
  p.height = 720;
  p.video_codec = "vp9";
  p.format_name = "matroska,webm";
  limits l;
  l.max_seconds = 3600;
  auto argv = transcode_command(k_tools, "/data/in", p, plan_ladder(p), "/w", l);
  expect_input_guards(argv);
  auto input = index_of(argv, "-i");
  EXPECT_EQ(after(argv, "-f"), "matroska");
  EXPECT_LT(index_of(argv, "-f"), input);
  EXPECT_EQ(after(argv, "-t"), "3600.000");
  EXPECT_LT(index_of(argv, "-t"), input);
  EXPECT_EQ(after(argv, "-threads"), "4");
  EXPECT_LT(index_of(argv, "-threads"), input);                    // the decoder's
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-threads"), 4);  // decoder, MP4, HLS and storyboard encoders
  EXPECT_EQ(after(argv, "-filter_complex_threads"), "4");
}

TEST(refuse_format, accepts_containers_and_names_playlists_manifests_lists_and_images) {
  for (const char* ok : {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts", "mpeg", "flv", "ogg", "asf"})
    EXPECT_EQ(refuse_format(ok), std::nullopt) << ok;
  EXPECT_EQ(refuse_format("hls"), "This file is a playlist, not a video.");
  EXPECT_EQ(refuse_format("dash"), "This file is a streaming manifest, not a video.");
  EXPECT_EQ(refuse_format("webm_dash_manifest"), "This file is a streaming manifest, not a video.");
  EXPECT_EQ(refuse_format("concat"), "This file is a list of other files, not a video.");
  EXPECT_EQ(refuse_format("image2"), "This file is an image, not a video.");
  EXPECT_EQ(refuse_format("png_pipe"), "This file is an image, not a video.");
  EXPECT_EQ(refuse_format("gif"), "This file is an image, not a video.");
  EXPECT_EQ(refuse_format("mp3"), "This file is audio, not a video.");
  EXPECT_EQ(refuse_format("tty"), "This file is text or subtitles, not a video.");
  EXPECT_EQ(refuse_format(""), "This file is not in a video format reel accepts.");
  EXPECT_EQ(refuse_format("lavfi"), "This file is not in a video format reel accepts.");
  // A name only resembling an accepted one is not accepted.
  EXPECT_NE(refuse_format("mpegtsraw"), std::nullopt);
  EXPECT_NE(refuse_format("webm_dash_manifest,webm"), std::nullopt);
  EXPECT_EQ(demuxer_of("mov,mp4,m4a,3gp,3g2,mj2"), "mov");
  EXPECT_EQ(demuxer_of("avi"), "avi");
}

TEST(parse_probe, reads_the_container_format) {
  auto p = parse_probe(R"({"streams":[{"codec_type":"video","codec_name":"h264","width":64,"height":48}],
                          "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.0"}})");
  EXPECT_EQ(p.format_name, "mov,mp4,m4a,3gp,3g2,mj2");
}

TEST(check_limits, defaults_accept_4k_at_120_fps_for_6_hours_and_refuse_more_in_words) {
  limits l;
  EXPECT_EQ(l.max_pixels, 4096 * 2304);
  EXPECT_EQ(l.max_fps, 120);
  EXPECT_EQ(l.max_seconds, 6 * 3600);
  probe_result p;
  p.width = 4096;
  p.height = 2304;
  p.fps = 120;
  p.duration_sec = 6 * 3600;
  EXPECT_EQ(check_limits(p, l), std::nullopt);
  p.width = p.height = 8192;
  EXPECT_EQ(check_limits(p, l),
            "The picture is too large (8192×8192 pixels); this server accepts at most 9.4 million pixels a frame.");
  p.width = 1920;
  p.height = 1080;
  p.fps = 239.76;
  EXPECT_EQ(check_limits(p, l),
            "The frame rate is too high (239.76 frames a second); this server accepts at most 120.");
  p.fps = 30;
  p.duration_sec = 7.5 * 3600;
  EXPECT_EQ(check_limits(p, l), "The video is too long (7 h 30 min); this server accepts at most 6 h.");
  p.duration_sec = 6 * 3600 + 30;
  EXPECT_EQ(check_limits(p, l), "The video is too long (6 h 30 s); this server accepts at most 6 h.");
  l.max_seconds = 90;
  p.duration_sec = 125;
  EXPECT_EQ(check_limits(p, l), "The video is too long (2 min 5 s); this server accepts at most 1 min 30 s.");
}

TEST(transcode_timeout, follows_the_limit_not_the_files_claim) {
  limits l;
  probe_result p;
  p.duration_sec = 60;
  EXPECT_EQ(transcode_timeout(p, l), std::chrono::milliseconds(600'000 + 600'000));
  // A file claiming a huge duration gets no more than the limit allows.
  p.duration_sec = 1e9;
  EXPECT_EQ(transcode_timeout(p, l), std::chrono::milliseconds(600'000 + 6 * 3600 * 10'000));
  l.max_seconds = 10;
  EXPECT_EQ(transcode_timeout(p, l), std::chrono::milliseconds(700'000));
  p.duration_sec = -5;
  EXPECT_EQ(transcode_timeout(p, l), std::chrono::milliseconds(600'000));
}

// Reliability issue: a 1×1 video was scaled to 0×0 and retried 3 times.
TEST(check_limits, a_side_under_two_pixels_cannot_be_scaled_and_is_refused_in_words) {
  probe_result p;
  p.duration_sec = 1;
  p.fps = 25;
  p.width = p.height = 1;
  EXPECT_EQ(check_limits(p, {}), "The picture is too small (1×1 pixels); a video needs at least 2 pixels each way.");
  p.width = 640;
  EXPECT_EQ(check_limits(p, {}), "The picture is too small (640×1 pixels); a video needs at least 2 pixels each way.");
  p.height = 2;
  EXPECT_EQ(check_limits(p, {}), std::nullopt);
  for (const auto& r : plan_ladder(p)) {
    EXPECT_GE(r.width, 2);
    EXPECT_GE(r.height, 2);
  }
}

TEST(check_output_duration, more_than_two_percent_short_is_a_file_that_ends_early) {
  EXPECT_EQ(check_output_duration(10.0, 10.0), std::nullopt);
  EXPECT_EQ(check_output_duration(10.0, 9.81), std::nullopt);  // 1.9 % short: frame and packet rounding
  EXPECT_EQ(check_output_duration(10.0, 10.5), std::nullopt);  // longer is not short
  EXPECT_EQ(check_output_duration(10.0, 9.7), "The file ends early: it may be truncated.");
  EXPECT_EQ(check_output_duration(10.0, 4.84), "The file ends early: it may be truncated.");
  EXPECT_EQ(check_output_duration(10.0, 0), "The file ends early: it may be truncated.");
  EXPECT_EQ(check_output_duration(1.0, 0.92), std::nullopt);  // a frame or two of a 1 s clip
  EXPECT_EQ(check_output_duration(1.0, 0.8), "The file ends early: it may be truncated.");
}

TEST(playlist_duration, adds_the_segments_durations) {
  EXPECT_DOUBLE_EQ(playlist_duration("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000000,\nseg_000.ts\n"
                                     "#EXTINF:4.0,\nseg_001.ts\n#EXTINF:1.52,\nseg_002.ts\n#EXT-X-ENDLIST\n"),
                   9.52);
  EXPECT_DOUBLE_EQ(playlist_duration(""), 0);
}

TEST(sniff_still, knows_jpeg_and_png_by_their_first_bytes_only) {
  EXPECT_EQ(sniff_still("\xFF\xD8\xFF\xE0rest"), still_format::jpeg);
  EXPECT_EQ(sniff_still(std::string("\x89PNG\r\n\x1A\n\0\0", 10)), still_format::png);
  EXPECT_EQ(sniff_still("\xFF\xD8"), std::nullopt);                         // too short
  EXPECT_EQ(sniff_still(std::string("\x89PNG\r\n\x1A", 7)), std::nullopt);  // cut signature
  EXPECT_EQ(sniff_still("GIF89a"), std::nullopt);
  EXPECT_EQ(sniff_still("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), std::nullopt);
  EXPECT_EQ(sniff_still(""), std::nullopt);
}

TEST(still_command, forces_the_image_demuxer_bounds_pixels_and_drops_metadata) {
  auto argv = still_command(k_tools, "/tmp/up", still_format::png, std::nullopt, "/out.jpg");
  EXPECT_EQ(after(argv, "-protocol_whitelist"), "file");
  EXPECT_EQ(after(argv, "-format_whitelist"), "jpeg_pipe,png_pipe");
  EXPECT_EQ(after(argv, "-f"), "png_pipe");  // the first -f: the input's
  EXPECT_LT(index_of(argv, "-f"), index_of(argv, "-i"));
  EXPECT_EQ(after(argv, "-max_pixels"), std::to_string(k_max_still_pixels));
  EXPECT_LT(index_of(argv, "-max_pixels"), index_of(argv, "-i"));  // a decoder option: before the input
  EXPECT_EQ(after(argv, "-map_metadata"), "-1");
  EXPECT_EQ(after(argv, "-vf"), "scale='min(1920,iw)':'min(1920,ih)':force_original_aspect_ratio=decrease");
  EXPECT_EQ(argv.back(), "/out.jpg");
  auto jpeg = still_command(k_tools, "/tmp/p.jpg", still_format::jpeg, 160, "/o.jpg");
  EXPECT_EQ(after(jpeg, "-f"), "jpeg_pipe");
  EXPECT_EQ(after(jpeg, "-vf"), "scale='min(160,iw)':-2");
}

TEST(poster_seek, keeps_half_a_second_before_the_end) {
  EXPECT_DOUBLE_EQ(poster_seek(2.0, 6.0), 2.0);
  EXPECT_DOUBLE_EQ(poster_seek(5.9, 6.0), 5.5);
  EXPECT_DOUBLE_EQ(poster_seek(1.0, 0.3), 0.0);  // a clip shorter than half a second
  EXPECT_DOUBLE_EQ(poster_seek(0.0, 6.0), 0.0);
}

TEST(rung_mp4_command, opens_only_reels_own_playlist_and_copies_into_a_faststart_mp4) {
  auto argv = rung_mp4_command(k_tools, "/v/hls/360p/index.m3u8", "/v/downloads/360p.mp4.tmp");
  EXPECT_EQ(argv.front(), k_tools.ffmpeg);
  EXPECT_EQ(after(argv, "-protocol_whitelist"), "file");
  EXPECT_EQ(after(argv, "-format_whitelist"), "hls,mpegts");
  EXPECT_EQ(after(argv, "-f"), "hls");
  EXPECT_LT(index_of(argv, "-format_whitelist"), index_of(argv, "-i"));
  EXPECT_EQ(after(argv, "-i"), "/v/hls/360p/index.m3u8");
  EXPECT_EQ(after(argv, "-c"), "copy");
  EXPECT_EQ(after(argv, "-movflags"), "+faststart");
  EXPECT_EQ(argv.back(), "/v/downloads/360p.mp4.tmp");
}
