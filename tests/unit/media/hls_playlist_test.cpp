#include "media/hls_playlist.hpp"

#include <gtest/gtest.h>

using reel::media::add_query_to_playlist;

TEST(hls_playlist, every_uri_of_a_master_playlist_gets_the_parameter) {
  std::string master =
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"subs/en.m3u8\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360,CODECS=\"avc1.4d402a,mp4a.40.2\"\n360p/index.m3u8\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2,RESOLUTION=1280x720,CODECS=\"avc1.4d402a,mp4a.40.2\"\n720p/index.m3u8\n";
  EXPECT_EQ(
      add_query_to_playlist(master, "token=T"),
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"subs/en.m3u8?token=T\"\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360,CODECS=\"avc1.4d402a,mp4a.40.2\"\n360p/index.m3u8?token=T\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2,RESOLUTION=1280x720,CODECS=\"avc1.4d402a,mp4a.40.2\"\n720p/index.m3u8?token=T\n");
}

TEST(hls_playlist, segments_keep_their_queries_fragments_and_line_endings) {
  std::string variant =
      "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MAP:URI=\"init.mp4\"\r\n#EXTINF:4.0,\r\nseg_000.ts\r\n"
      "#EXTINF:4.0,\r\nseg_001.ts?x=1\r\n\r\n#EXTINF:2.0,\r\nseg_002.ts#t\r\n#EXT-X-ENDLIST";
  EXPECT_EQ(add_query_to_playlist(variant, "token=T"),
            "#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n#EXT-X-MAP:URI=\"init.mp4?token=T\"\r\n#EXTINF:4.0,\r\n"
            "seg_000.ts?token=T\r\n#EXTINF:4.0,\r\nseg_001.ts?x=1&token=T\r\n\r\n#EXTINF:2.0,\r\n"
            "seg_002.ts?token=T#t\r\n#EXT-X-ENDLIST");
}

TEST(hls_playlist, text_that_only_looks_like_a_uri_attribute_is_left_alone) {
  // XURI="..." is not the URI attribute; an unterminated value is left as it is.
  EXPECT_EQ(add_query_to_playlist("#EXT-X-FOO:XURI=\"a\",URI=\"b\"\n#EXT-X-BAR:URI=\"open\n", "t=1"),
            "#EXT-X-FOO:XURI=\"a\",URI=\"b?t=1\"\n#EXT-X-BAR:URI=\"open\n");
  EXPECT_EQ(add_query_to_playlist("", "t=1"), "");
  EXPECT_EQ(add_query_to_playlist("\n\n", "t=1"), "\n\n");
}

TEST(hls_playlist, the_parameter_joins_an_existing_query_once_and_stays_before_the_fragment) {
  auto with = [](std::string_view uri) {
    std::string out;
    reel::media::append_query_parameter(out, uri, "token=T");
    return out;
  };
  EXPECT_EQ(with("a.ts"), "a.ts?token=T");
  EXPECT_EQ(with("a.ts?"), "a.ts?token=T");
  EXPECT_EQ(with("a.ts?x=1"), "a.ts?x=1&token=T");
  EXPECT_EQ(with("a.ts?x=1&"), "a.ts?x=1&token=T");
  EXPECT_EQ(with("s.jpg#xywh=0,0,160,90"), "s.jpg?token=T#xywh=0,0,160,90");
  EXPECT_EQ(with("s.jpg?x#y?z"), "s.jpg?x&token=T#y?z");
}
