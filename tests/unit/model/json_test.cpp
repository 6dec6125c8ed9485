#include "model/json.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <string>

using namespace reel::model;

namespace {

std::string written(const video& v) {
  std::string out;
  append_video_json(out, v);
  return out;
}

std::string serialized(const video& v) { return boost::json::serialize(video_json(v)); }

video queued_video() {
  video v;
  v.id = "abc123def456";
  v.organization_id = "org1";
  v.title = "bench";
  v.description = "";
  v.original_filename = "small.mp4";
  v.content_type = "video/mp4";
  v.size_bytes = 4096;
  v.created_by = "user1";
  v.created_at = v.updated_at = "2026-12-06T04:00:00.123Z";
  return v;
}

video json_ready_video() {
  video v = queued_video();
  v.status = video_status::ready;
  v.visibility = visibility::public_;
  v.view_count = 42;
  v.duration_sec = 12.345;
  v.width = 1280;
  v.height = 720;
  v.video_codec = "h264";
  v.audio_codec = "aac";
  v.renditions = R"([ {"height": 720, "bitrate": 2500000, "name": "720p"}, {"height":360} ])";
  v.ready_at = "2026-12-06T04:01:00.000Z";
  v.poster_time = 3.5;
  v.poster_version = 2;
  return v;
}

}  // namespace

TEST(video_json_writer, queued_video_is_written_as_the_serializer_writes_it) {
  EXPECT_EQ(written(queued_video()), serialized(queued_video()));
}

TEST(video_json_writer, ready_video_with_renditions_and_poster_time_matches_the_serializer) {
  EXPECT_EQ(written(json_ready_video()), serialized(json_ready_video()));
}

TEST(video_json_writer, progress_failed_and_missing_fields_match_the_serializer) {
  video v = queued_video();
  v.status = video_status::processing;
  v.progress_stage = "transcode";
  v.progress_percent = 37.5;
  v.created_by.reset();
  EXPECT_EQ(written(v), serialized(v));
  v.progress_percent.reset();  // a stage without a percent: 0
  EXPECT_EQ(written(v), serialized(v));
  v.status = video_status::failed;
  v.progress_stage.reset();
  v.error = "ffmpeg exited with code 1\n\"bad\" input";
  v.poster_image = true;
  v.duration_sec = 0.0;
  v.width = -1;
  EXPECT_EQ(written(v), serialized(v));
}

TEST(video_json_writer, early_playback_matches_the_serializer) {
  video v = queued_video();
  v.status = video_status::processing;
  v.progress_stage = "transcode";
  v.progress_percent = 12.0;
  v.playable_at = "2026-12-06T04:00:02.000Z";
  EXPECT_EQ(written(v), serialized(v));
  EXPECT_NE(written(v).find(R"("playable":true,"hlsUrl":"/api/stream/abc123def456/hls/master.m3u8")"),
            std::string::npos);
  v.status = video_status::failed;  // a failed video is not playable, whatever playable_at says
  EXPECT_EQ(written(v), serialized(v));
  EXPECT_NE(written(v).find(R"("playable":false,"hlsUrl":null)"), std::string::npos);
}

TEST(video_json_writer, renditions_that_are_not_an_array_are_written_as_an_empty_one) {
  video v = json_ready_video();
  for (const char* r : {"", "{}", "not json", "[1,", "  []  ", "[\"a\\u0001\"]"}) {
    v.renditions = r;
    EXPECT_EQ(written(v), serialized(v)) << r;
  }
}

TEST(video_json_writer, every_byte_of_a_string_is_escaped_as_the_serializer_escapes_it) {
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  all += '\0';
  video v = queued_video();
  v.title = all;
  v.description = "caf\xc3\xa9 \xe2\x80\x94 / \\ \x7f";
  EXPECT_EQ(written(v), serialized(v));
  std::string quoted;
  append_json_string(quoted, all);
  EXPECT_EQ(quoted, boost::json::serialize(boost::json::value(boost::json::string(all))));
}

// The writer appends after what the string holds, and grows it past any
// first estimate: a description of 100,000 bytes that each take six
// (\u00XX), then more videos after it in the same string.
TEST(video_json_writer, appends_after_earlier_text_and_grows_past_its_estimate) {
  video big = queued_video();
  big.description = std::string(100'000, '\x01');
  big.title = std::string(3'000, '"');
  std::string out = "prefix,";
  append_video_json(out, queued_video());
  append_video_json(out, big);
  append_video_json(out, json_ready_video());
  append_json_string(out, big.title);
  EXPECT_EQ(out, "prefix," + serialized(queued_video()) + serialized(big) + serialized(json_ready_video()) +
                     boost::json::serialize(boost::json::value(boost::json::string(big.title))));
  std::string chars = "x";
  append_json_chars(chars, std::string(5'000, '\n'));
  std::string expected = "x";
  for (int i = 0; i < 5'000; ++i) expected += "\\n";
  EXPECT_EQ(chars, expected);
}
