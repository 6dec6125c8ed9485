#include "media/ffmpeg.hpp"

#include <gtest/gtest.h>

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
  EXPECT_NE(all.find("split=3[s0][s1][sm]"), std::string::npos) << all;
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
