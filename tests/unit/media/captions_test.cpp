#include "media/captions.hpp"

#include "core/errors.hpp"

#include <gtest/gtest.h>

using reel::errc;
using reel::media::add_subtitles_to_master;
using reel::media::canonical_language;
using reel::media::caption_format;
using reel::media::k_max_caption_bytes;
using reel::media::normalize_captions;
using reel::media::subtitles_playlist;

namespace {

// The message of the error normalize_captions throws, with its code checked.
std::string captions_refusal(std::string_view bytes, caption_format f, errc expected = errc::bad_request) {
  try {
    normalize_captions(bytes, f);
  } catch (const reel::error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << bytes.substr(0, 200);
  return "";
}

constexpr caption_format vtt = caption_format::webvtt;
constexpr caption_format srt = caption_format::srt;

}  // namespace

TEST(captions, srt_becomes_webvtt_without_cue_numbers_and_with_dots) {
  std::string in =
      "1\n00:00:01,000 --> 00:00:04,500\nHello, world!\n<i>Second line</i>\n\n"
      "2\n00:00:05,250 --> 00:01:02,003 X1:10 X2:20 Y1:5 Y2:6\nBye\n";
  EXPECT_EQ(normalize_captions(in, srt),
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nHello, world!\n<i>Second line</i>\n\n"
            "00:00:05.250 --> 00:01:02.003\nBye\n");
}

TEST(captions, a_bom_and_crlf_or_cr_line_endings_are_accepted) {
  std::string crlf =
      "\xEF\xBB\xBF"
      "1\r\n0:00:01,000 --> 0:00:02,000\r\nÉté\r\n\r\n";
  EXPECT_EQ(normalize_captions(crlf, srt), "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nÉté\n");
  std::string cr = "\xEF\xBB\xBFWEBVTT\r\r00:01.000 --> 00:02.000\rA\r";
  EXPECT_EQ(normalize_captions(cr, vtt), "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nA\n");
}

TEST(captions, webvtt_keeps_header_identifiers_notes_styles_and_cue_settings) {
  std::string in =
      "WEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\n"
      "intro\n00:01.000 --> 00:02.000   align:start\tline:0%\nHi\n\n\n\n01:00:00.000 --> 01:00:01.000\nLater\n";
  std::string out = normalize_captions(in, vtt);
  EXPECT_EQ(out,
            "WEBVTT - a title\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE made by hand\n\n"
            "intro\n00:00:01.000 --> 00:00:02.000 align:start line:0%\nHi\n\n01:00:00.000 --> 01:00:01.000\nLater\n");
  EXPECT_EQ(normalize_captions(out, vtt), out);  // normalized already
}

TEST(captions, a_broken_srt_timestamp_names_its_line) {
  std::string in = "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:01:xx,000 --> 00:01:05,000\nTwo\n";
  EXPECT_EQ(captions_refusal(in, srt), "line 6: bad timestamp '00:01:xx,000'");
  EXPECT_EQ(captions_refusal("1\r\n00:00:01,000 --> 00:00:02\r\n", srt), "line 2: bad timestamp '00:00:02'");
  EXPECT_EQ(captions_refusal("1\n00:00:61,000 --> 00:01:02,000\n", srt), "line 2: bad timestamp '00:00:61,000'");
}

TEST(captions, webvtt_errors_name_their_line) {
  EXPECT_EQ(captions_refusal("WEBVT\n\n00:01.000 --> 00:02.000\nA\n", vtt),
            "line 1: a WebVTT file must start with 'WEBVTT'");
  EXPECT_EQ(captions_refusal("1\n00:00:01,000 --> 00:00:02,000\nA\n", vtt),
            "line 1: a WebVTT file must start with 'WEBVTT'");
  EXPECT_EQ(captions_refusal("WEBVTT\n\n00:01,000 --> 00:02.000\nA\n", vtt), "line 3: bad timestamp '00:01,000'");
  EXPECT_EQ(captions_refusal("WEBVTT\n\n00:05.000 --> 00:02.000\nA\n", vtt),
            "line 3: the cue ends (00:00:02.000) before it starts (00:00:05.000)");
  EXPECT_EQ(captions_refusal("WEBVTT\n\nid\nno timing here\n", vtt),
            "line 4: expected a cue timing line such as '00:00:01.000 --> 00:00:04.000'");
  EXPECT_EQ(captions_refusal("WEBVTT\n\n00:01.000 --> 00:02.000\nA\n00:03.000 --> 00:04.000\nB\n", vtt),
            "line 5: '-->' in a cue's text (a blank line must come before the next cue)");
  EXPECT_EQ(captions_refusal("WEBVTT\n00:01.000 --> 00:02.000\n", vtt),
            "line 2: a blank line must come between the header and the first cue");
}

TEST(captions, a_cue_may_end_when_it_starts) {
  EXPECT_EQ(normalize_captions("WEBVTT\n\n00:01.000 --> 00:01.000\n", vtt),
            "WEBVTT\n\n00:00:01.000 --> 00:00:01.000\n");
}

TEST(captions, empty_files_and_files_without_cues_are_refused) {
  EXPECT_EQ(captions_refusal("", srt), "The caption file is empty.");
  EXPECT_EQ(captions_refusal("\xEF\xBB\xBF \r\n\n", vtt), "The caption file is empty.");
  EXPECT_EQ(captions_refusal("WEBVTT\n\nNOTE nothing\n", vtt), "The caption file has no cues.");
}

TEST(captions, invalid_utf8_and_nul_are_refused_naming_the_line) {
  EXPECT_EQ(captions_refusal("1\n00:00:01,000 --> 00:00:02,000\nCaf\xE9\n", srt), "line 3: invalid UTF-8");
  EXPECT_EQ(captions_refusal("WEBVTT\n\n00:01.000 --> 00:02.000\n\xED\xA0\x80\n", vtt),
            "line 4: invalid UTF-8");  // a surrogate
  EXPECT_EQ(captions_refusal("WEBVTT\n\n00:01.000 --> 00:02.000\n\xC0\xAF\n", vtt),
            "line 4: invalid UTF-8");  // overlong
  EXPECT_EQ(captions_refusal(std::string("WEBVTT\n\n00:01.000 --> 00:02.000\nA\0B\n", 36), vtt),
            "line 4: a NUL character");
}

TEST(captions, files_over_2_mib_are_too_large_and_2_mib_is_not) {
  std::string cue = "00:00:01.000 --> 00:00:02.000\nA\n\n";
  std::string body = "WEBVTT\n\n";
  while (body.size() + cue.size() <= k_max_caption_bytes) body += cue;
  body.append(k_max_caption_bytes - body.size(), '\n');
  ASSERT_EQ(body.size(), k_max_caption_bytes);
  EXPECT_NO_THROW(normalize_captions(body, vtt));
  EXPECT_EQ(captions_refusal(body + "\n", vtt, errc::payload_too_large),
            "The caption file is larger than 2 MiB (2097152 bytes).");
}

TEST(captions, srt_without_a_blank_line_between_cues_names_the_line) {
  std::string in = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n";
  EXPECT_EQ(captions_refusal(in, srt), "line 5: '-->' in a cue's text (a blank line must come before the next cue)");
  EXPECT_EQ(captions_refusal("x\n00:00:01,000 --> 00:00:02,000\n", srt),
            "line 1: expected a cue number or a timing line");
}

TEST(captions, language_tags_are_checked_and_put_in_canonical_case) {
  EXPECT_EQ(canonical_language("en"), "en");
  EXPECT_EQ(canonical_language("EN-us"), "en-US");
  EXPECT_EQ(canonical_language("zh-hant-tw"), "zh-Hant-TW");
  EXPECT_EQ(canonical_language("es-419"), "es-419");
  EXPECT_EQ(canonical_language("sgn-BE-FR"), "sgn-BE-FR");
  for (const char* bad :
       {"", "e", "english", "en_US", "en-", "-en", "en--US", "en-abcdefghi", "1a", "é", "en US", "en-US.vtt", "../en"})
    EXPECT_FALSE(canonical_language(bad)) << bad;
  EXPECT_FALSE(canonical_language("en-" + std::string(33, 'a').substr(0, 8) + "-abcdefgh-abcdefgh-abcdefgh"));
}

TEST(captions, the_master_playlist_gets_a_subtitles_group_named_by_every_variant) {
  std::string master =
      "#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360\r\n360p/index.m3u8\r\n"
      "#EXT-X-STREAM-INF:BANDWIDTH=2,RESOLUTION=1280x720\r\n720p/index.m3u8\r\n";
  EXPECT_EQ(add_subtitles_to_master(master, {}), master);
  EXPECT_EQ(add_subtitles_to_master(master, {{"en", "English \"CC\"", "../captions/en.m3u8"},
                                             {"pt-BR", "Português", "../captions/pt-BR.m3u8"}}),
            "#EXTM3U\n#EXT-X-VERSION:3\n"
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English 'CC'\",LANGUAGE=\"en\",DEFAULT=NO,"
            "AUTOSELECT=YES,URI=\"../captions/en.m3u8\"\n"
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Português\",LANGUAGE=\"pt-BR\",DEFAULT=NO,"
            "AUTOSELECT=YES,URI=\"../captions/pt-BR.m3u8\"\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=640x360,SUBTITLES=\"subs\"\n360p/index.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=2,RESOLUTION=1280x720,SUBTITLES=\"subs\"\n720p/index.m3u8\n");
}

TEST(captions, a_subtitles_playlist_is_one_segment_as_long_as_the_video) {
  EXPECT_EQ(subtitles_playlist("en.vtt", 12.5),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:13\n#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:12.500,\nen.vtt\n#EXT-X-ENDLIST\n");
}
