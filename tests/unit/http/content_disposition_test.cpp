#include "http/content_disposition.hpp"

#include <gtest/gtest.h>

using namespace reel::http;

TEST(attachment_disposition, plain_ascii_title) {
  EXPECT_EQ(attachment_disposition("Holiday 2024", ".mp4"),
            "attachment; filename=\"Holiday 2024.mp4\"; filename*=UTF-8''Holiday%202024.mp4");
}

TEST(attachment_disposition, quotes_and_non_ascii_letters) {
  EXPECT_EQ(attachment_disposition("Say \"Crème brûlée\"", ".mp4"),
            "attachment; filename=\"Say 'Cr_me br_l_e'.mp4\"; "
            "filename*=UTF-8''Say%20%27Cr%C3%A8me%20br%C3%BBl%C3%A9e%27.mp4");
}

TEST(attachment_disposition, backslashes_slashes_and_control_characters_are_dropped) {
  auto n = make_download_name("a/b\\c\r\nSet-Cookie: x=1\t\x7f", ".mp4");
  EXPECT_EQ(n.utf8, "abcSet-Cookie_ x=1.mp4");
  EXPECT_EQ(n.ascii, "abcSet-Cookie_ x=1.mp4");
  auto header = attachment_disposition("evil\r\nX-Injected: 1", ".mp4");
  EXPECT_EQ(header.find('\r'), std::string::npos);
  EXPECT_EQ(header.find('\n'), std::string::npos);
  EXPECT_EQ(make_download_name("../../etc/passwd", ".mp4").utf8, "etcpasswd.mp4");
}

TEST(attachment_disposition, emoji_and_cjk) {
  auto emoji = make_download_name("Party \xF0\x9F\x8E\x89", ".mp4");
  EXPECT_EQ(emoji.ascii, "Party _.mp4");
  EXPECT_EQ(emoji.utf8, "Party \xF0\x9F\x8E\x89.mp4");
  EXPECT_EQ(attachment_disposition("Party \xF0\x9F\x8E\x89", ".mp4"),
            "attachment; filename=\"Party _.mp4\"; filename*=UTF-8''Party%20%F0%9F%8E%89.mp4");
  // Nothing readable is left in ASCII: the fallback is "video".
  auto cjk = make_download_name("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", ".mp4");  // 日本語
  EXPECT_EQ(cjk.ascii, "video.mp4");
  EXPECT_EQ(cjk.utf8, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.mp4");
}

TEST(attachment_disposition, empty_or_blank_title_is_video) {
  EXPECT_EQ(attachment_disposition("", ".mp4"), "attachment; filename=\"video.mp4\"; filename*=UTF-8''video.mp4");
  EXPECT_EQ(make_download_name("  ..  ", ".mp4").utf8, "video.mp4");
  EXPECT_EQ(make_download_name("\r\n/\\", ".mp4").ascii, "video.mp4");
  EXPECT_EQ(make_download_name(".hidden.", ".mp4").utf8, "hidden.mp4");
}

TEST(attachment_disposition, percent_and_windows_characters) {
  auto n = make_download_name("100% <done>: a|b?*", ".mp4");
  EXPECT_EQ(n.ascii, "100_ _done__ a_b__.mp4");
  EXPECT_EQ(n.utf8, "100% _done__ a_b__.mp4");
  EXPECT_NE(attachment_disposition("100%", ".mp4").find("filename*=UTF-8''100%25.mp4"), std::string::npos);
}

TEST(attachment_disposition, invalid_utf8_becomes_replacement_character) {
  auto n = make_download_name(
      "a\xFF"
      "b\xC0\xAF"
      "c\xED\xA0\x80",
      ".mp4");
  EXPECT_EQ(n.ascii, "a_b__c___.mp4");
  EXPECT_EQ(n.utf8,
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD.mp4");
}

TEST(attachment_disposition, long_titles_are_cut_at_a_character_boundary) {
  auto ascii = make_download_name(std::string(1000, 'x'), ".mp4");
  EXPECT_EQ(ascii.utf8, std::string(150, 'x') + ".mp4");
  // 3-byte characters: 50 fit in 150 bytes, never half of one.
  std::string cjk;
  for (int i = 0; i < 200; ++i) cjk += "\xE6\x97\xA5";
  auto cut = make_download_name("a" + cjk, ".mp4");
  EXPECT_EQ(cut.utf8.size(), 1 + 49 * 3 + 4);
  // A cut that leaves a trailing space trims it.
  auto spaced = make_download_name(std::string(149, 'y') + "  zzz", ".mp4");
  EXPECT_EQ(spaced.utf8, std::string(149, 'y') + ".mp4");
}
