#include "media/storyboard.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <vector>

using namespace reel::media;

namespace {

probe_result probe(double seconds, int width, int height) {
  probe_result p;
  p.duration_sec = seconds;
  p.width = width;
  p.height = height;
  return p;
}

struct cue {
  double start = 0, end = 0;
  std::string sprite;
  int x = 0, y = 0, w = 0, h = 0;
};

double seconds_of(const std::string& t) {
  int h = 0, m = 0, s = 0, ms = 0;
  EXPECT_EQ(std::sscanf(t.c_str(), "%d:%d:%d.%d", &h, &m, &s, &ms), 4) << t;
  EXPECT_EQ(t.size(), 12u) << t;
  return h * 3600.0 + m * 60.0 + s + ms / 1000.0;
}

// A strict reading of the storyboard WebVTT: header, then blocks of a timing
// line and one payload line "storyboard/<sprite>#xywh=x,y,w,h".
std::vector<cue> parse(const std::string& vtt) {
  std::istringstream in(vtt);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "WEBVTT");
  std::vector<cue> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    cue c;
    auto arrow = line.find(" --> ");
    EXPECT_NE(arrow, std::string::npos) << line;
    if (arrow == std::string::npos) break;
    c.start = seconds_of(line.substr(0, arrow));
    c.end = seconds_of(line.substr(arrow + 5));
    std::getline(in, line);
    auto hash = line.find("#xywh=");
    EXPECT_TRUE(line.starts_with("storyboard/")) << line;
    c.sprite = line.substr(11, hash - 11);
    EXPECT_EQ(std::sscanf(line.c_str() + hash, "#xywh=%d,%d,%d,%d", &c.x, &c.y, &c.w, &c.h), 4) << line;
    out.push_back(c);
  }
  return out;
}

}  // namespace

TEST(plan_storyboard, interval_is_a_hundredth_of_the_duration_between_2_and_10_seconds) {
  EXPECT_EQ(plan_storyboard(probe(1, 320, 240)).interval_sec, 2);
  EXPECT_EQ(plan_storyboard(probe(249, 320, 240)).interval_sec, 2);
  EXPECT_EQ(plan_storyboard(probe(251, 320, 240)).interval_sec, 3);
  EXPECT_EQ(plan_storyboard(probe(600, 320, 240)).interval_sec, 6);
  EXPECT_EQ(plan_storyboard(probe(1000, 320, 240)).interval_sec, 10);
  EXPECT_EQ(plan_storyboard(probe(6 * 3600, 320, 240)).interval_sec, 10);
  EXPECT_EQ(plan_storyboard(probe(6 * 3600, 320, 240)).tiles, 2160);
  EXPECT_EQ(plan_storyboard(probe(600, 320, 240)).tiles, 100);
}

TEST(plan_storyboard, tiles_are_160_wide_with_the_displayed_aspect_and_even_heights) {
  auto wide = plan_storyboard(probe(10, 1920, 1080));
  EXPECT_EQ(wide.tile_width, 160);
  EXPECT_EQ(wide.tile_height, 90);
  auto four_three = plan_storyboard(probe(10, 320, 240));
  EXPECT_EQ(four_three.tile_height, 120);
  auto portrait = plan_storyboard(probe(10, 1080, 1920));  // rotation already applied by the probe
  EXPECT_EQ(portrait.tile_width, 160);
  EXPECT_EQ(portrait.tile_height, 284);
  auto odd = plan_storyboard(probe(10, 333, 100));  // 48.05 → 48
  EXPECT_EQ(odd.tile_height, 48);
  auto sliver = plan_storyboard(probe(10, 4096, 2));
  EXPECT_EQ(sliver.tile_height, 2);
  auto tower = plan_storyboard(probe(10, 2, 2000));  // fitted into 160×320
  EXPECT_EQ(tower.tile_height, 320);
  EXPECT_EQ(tower.tile_width, 2);
}

TEST(plan_storyboard, sheets_hold_up_to_ten_by_ten_and_shrink_for_few_tiles) {
  auto one = plan_storyboard(probe(1.5, 320, 240));
  EXPECT_EQ(one.tiles, 1);
  EXPECT_EQ(one.columns, 1);
  EXPECT_EQ(one.rows, 1);
  auto seven = plan_storyboard(probe(13, 320, 240));
  EXPECT_EQ(seven.tiles, 7);
  EXPECT_EQ(seven.columns, 7);
  EXPECT_EQ(seven.rows, 1);
  EXPECT_EQ(seven.sheets(), 1);
  auto many = plan_storyboard(probe(1000, 1280, 720));
  EXPECT_EQ(many.tiles, 100);
  EXPECT_EQ(many.columns, 10);
  EXPECT_EQ(many.rows, 10);
  EXPECT_EQ(many.sheets(), 1);
  EXPECT_EQ(many.sheet_width(), 1600);
  EXPECT_EQ(many.sheet_height(), 900);
  auto longest = plan_storyboard(probe(6 * 3600, 1280, 720));
  EXPECT_EQ(longest.sheets(), 22);
}

TEST(plan_storyboard, a_last_stretch_under_a_millisecond_gets_no_tile_so_no_cue_is_empty) {
  EXPECT_EQ(plan_storyboard(probe(4.0004, 320, 240)).tiles, 2);
  EXPECT_EQ(plan_storyboard(probe(4.0011, 320, 240)).tiles, 3);
  EXPECT_EQ(plan_storyboard(probe(0, 320, 240)).tiles, 1);
  for (double d : {4.0004, 4.0011, 0.0, 0.0004}) {
    auto plan = plan_storyboard(probe(d, 320, 240));
    auto cues = parse(storyboard_vtt(plan, d, plan.sheets()));
    ASSERT_EQ(static_cast<int>(cues.size()), plan.tiles);
    for (const auto& c : cues) EXPECT_GT(c.end, c.start) << d;
  }
}

TEST(storyboard_filter, pads_samples_scales_and_cuts) {
  auto plan = plan_storyboard(probe(7, 320, 240));
  EXPECT_EQ(storyboard_filter(plan), "tpad=stop_mode=clone:stop_duration=4,fps=1/2,scale=160:120,trim=end_frame=4");
}

TEST(sheets_command, tiles_the_transcodes_tiles_into_numbered_sheets_from_local_files_only) {
  auto plan = plan_storyboard(probe(600, 1280, 720));  // 6 s, 100 tiles
  auto argv = sheets_command({"/bin/ffmpeg", "/bin/ffprobe"}, plan, "/w/storyboard");
  EXPECT_EQ(argv, (std::vector<std::string>{"/bin/ffmpeg",
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
                                            "/w/storyboard/tiles.mjpeg",
                                            "-vf",
                                            "tile=10x10",
                                            "-fps_mode",
                                            "passthrough",
                                            "-c:v",
                                            "mjpeg",
                                            "-q:v",
                                            "5",
                                            "-f",
                                            "image2",
                                            "/w/storyboard/sprite-%03d.jpg"}));
}

TEST(sprite_name, one_spelling_per_sheet_and_nothing_else) {
  EXPECT_EQ(sprite_name(1), "sprite-001.jpg");
  EXPECT_EQ(sprite_name(22), "sprite-022.jpg");
  EXPECT_EQ(sprite_name(1000), "sprite-1000.jpg");
  EXPECT_EQ(parse_sprite_name("sprite-001.jpg"), 1);
  EXPECT_EQ(parse_sprite_name("sprite-022.jpg"), 22);
  EXPECT_EQ(parse_sprite_name("sprite-1000.jpg"), 1000);
  for (const char* bad : {"sprite-000.jpg", "sprite-0001.jpg", "sprite-01.jpg", "sprite-001.jpeg", "sprite-001.JPG",
                          "../sprite-001.jpg", "sprite-001.jpg/", "sprite-+01.jpg", "sprite--01.jpg", "storyboard.vtt",
                          "sprite-001.jpg%00", "", "sprite-.jpg", "sprite-10000.jpg", "sprite-0x1.jpg"})
    EXPECT_EQ(parse_sprite_name(bad), std::nullopt) << bad;
}

TEST(storyboard_vtt, cues_cover_the_duration_contiguously_and_lie_inside_their_sheets) {
  for (double duration : {0.5, 2.0, 7.0, 10.5, 199.0, 201.0, 999.9, 1234.5, 6 * 3600.0}) {
    SCOPED_TRACE(duration);
    auto plan = plan_storyboard(probe(duration, 1280, 720));
    auto cues = parse(storyboard_vtt(plan, duration, plan.sheets()));
    ASSERT_EQ(static_cast<int>(cues.size()), plan.tiles);
    double at = 0;
    for (std::size_t i = 0; i < cues.size(); ++i) {
      const auto& c = cues[i];
      EXPECT_NEAR(c.start, at, 1e-9);
      EXPECT_GT(c.end, c.start);
      EXPECT_NEAR(c.start, static_cast<double>(i) * plan.interval_sec, 1e-9);
      at = c.end;
      int per_sheet = plan.columns * plan.rows;
      EXPECT_EQ(c.sprite, sprite_name(static_cast<int>(i) / per_sheet + 1));
      EXPECT_EQ(c.w, plan.tile_width);
      EXPECT_EQ(c.h, plan.tile_height);
      EXPECT_GE(c.x, 0);
      EXPECT_GE(c.y, 0);
      EXPECT_LE(c.x + c.w, plan.sheet_width());
      EXPECT_LE(c.y + c.h, plan.sheet_height());
      EXPECT_EQ(c.x % plan.tile_width, 0);
    }
    EXPECT_NEAR(at, duration, 0.0005);
  }
}

TEST(storyboard_vtt, tiles_run_left_to_right_then_down_then_to_the_next_sheet) {
  auto plan = plan_storyboard(probe(240, 320, 240));  // 2 s, 120 tiles: 10×10, 2 sheets
  ASSERT_EQ(plan.tiles, 120);
  ASSERT_EQ(plan.sheets(), 2);
  auto cues = parse(storyboard_vtt(plan, 240, plan.sheets()));
  ASSERT_EQ(cues.size(), 120u);
  EXPECT_EQ(cues[0].x, 0);
  EXPECT_EQ(cues[1].x, 160);
  EXPECT_EQ(cues[10].x, 0);
  EXPECT_EQ(cues[10].y, 120);
  EXPECT_EQ(cues[99].x, 1440);
  EXPECT_EQ(cues[99].y, 1080);
  EXPECT_EQ(cues[99].sprite, "sprite-001.jpg");
  EXPECT_EQ(cues[100].sprite, "sprite-002.jpg");
  EXPECT_EQ(cues[100].x, 0);
  EXPECT_EQ(cues[100].y, 0);
  std::string first = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard/sprite-001.jpg#xywh=0,0,160,120\n\n";
  EXPECT_EQ(storyboard_vtt(plan, 240, 2).substr(0, first.size()), first);
}

TEST(storyboard_vtt, sheets_not_written_are_left_out_and_the_last_cue_reaches_the_end) {
  auto plan = plan_storyboard(probe(240, 320, 240));
  auto cues = parse(storyboard_vtt(plan, 240, 1));
  ASSERT_EQ(cues.size(), 100u);
  EXPECT_NEAR(cues.back().start, 198, 1e-9);
  EXPECT_NEAR(cues.back().end, 240, 1e-9);
  EXPECT_EQ(storyboard_vtt(plan, 240, 0), "WEBVTT\n");
}

TEST(add_query_to_storyboard, every_cue_uri_gets_the_parameter_before_its_fragment) {
  std::string vtt =
      "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard/sprite-001.jpg#xywh=0,0,160,90\n\n"
      "NOTE a --> b is not a cue here\nnor is this\n\n"
      "00:00:02.000 --> 00:00:04.000\r\nstoryboard/sprite-001.jpg?x=1#xywh=160,0,160,90\r\n";
  EXPECT_EQ(add_query_to_storyboard(vtt, "token=T"),
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard/sprite-001.jpg?token=T#xywh=0,0,160,90\n\n"
            "NOTE a --> b is not a cue here\nnor is this\n\n"
            "00:00:02.000 --> 00:00:04.000\r\nstoryboard/sprite-001.jpg?x=1&token=T#xywh=160,0,160,90\r\n");
  EXPECT_EQ(add_query_to_storyboard("WEBVTT\n", "token=T"), "WEBVTT\n");
  EXPECT_EQ(add_query_to_storyboard("", "token=T"), "");
}
