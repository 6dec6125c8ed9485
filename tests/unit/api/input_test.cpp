// Text that enters through any door: UTF-8 validity and the characters no
// field may hold.
#include "api/input.hpp"
#include "api/videos.hpp"
#include "core/errors.hpp"

#include <gtest/gtest.h>
#include <boost/json/object.hpp>

using namespace reel::api;

TEST(input, utf8_check_accepts_every_valid_form_and_counts_characters) {
  EXPECT_EQ(utf8_check(""), 0u);
  EXPECT_EQ(utf8_check("abc"), 3u);
  EXPECT_EQ(utf8_check("caf\xc3\xa9"), 4u);               // 2 bytes
  EXPECT_EQ(utf8_check("\xe6\x97\xa5\xe6\x9c\xac"), 2u);  // 3 bytes
  EXPECT_EQ(utf8_check("\xf0\x9f\x8e\xac"), 1u);          // 4 bytes
  EXPECT_EQ(utf8_check("\xf4\x8f\xbf\xbf"), 1u);          // U+10FFFF
  EXPECT_EQ(utf8_check("\xef\xbf\xbd"), 1u);              // U+FFFD
}

TEST(input, utf8_check_refuses_what_strict_json_clients_refuse) {
  for (std::string_view bad : {
           std::string_view("caf\xe9"),           // Latin-1
           std::string_view("\x80"),              // a lone continuation byte
           std::string_view("\xc3"),              // cut short
           std::string_view("\xe6\x97"),          // cut short
           std::string_view("\xc0\xaf"),          // overlong "/"
           std::string_view("\xc1\xbf"),          // overlong
           std::string_view("\xe0\x80\xaf"),      // overlong
           std::string_view("\xf0\x80\x80\xaf"),  // overlong
           std::string_view("\xed\xa0\x80"),      // surrogate U+D800
           std::string_view("\xed\xbf\xbf"),      // surrogate U+DFFF
           std::string_view("\xf4\x90\x80\x80"),  // past U+10FFFF
           std::string_view("\xf5\x80\x80\x80"),  // F5..FF never appear
           std::string_view("\xff"),
           std::string_view("ok\xc3\x28"),  // a second byte that is not a continuation
       })
    EXPECT_FALSE(utf8_check(bad)) << testing::PrintToString(std::string(bad));
}

TEST(input, unsafe_characters_are_controls_and_bidi_overrides) {
  EXPECT_FALSE(has_unsafe_char("Plain title, with punctuation: \xe2\x80\x94 and \xf0\x9f\x8e\xac"));
  EXPECT_FALSE(has_unsafe_char("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"));  // Hebrew text itself is fine
  EXPECT_FALSE(
      has_unsafe_char("a\xe2\x80\x8f"
                      "b"));  // U+200F RIGHT-TO-LEFT MARK: a mark, not an override
  for (std::string_view bad :
       {std::string_view("a\tb"), std::string_view("a\nb"), std::string_view("a\x7f"), std::string_view("a\xc2\x80"),
        std::string_view("a\xc2\x9f"), std::string_view("a\xe2\x80\xaa"), std::string_view("a\xe2\x80\xae"),
        std::string_view("a\xe2\x81\xa6"), std::string_view("a\xe2\x81\xa9"), std::string_view("a\xef\xbf\xb9")})
    EXPECT_TRUE(has_unsafe_char(bad)) << testing::PrintToString(std::string(bad));
}

TEST(input, text_fields_refuse_invalid_utf8_and_overrides_naming_the_field) {
  auto message_of = [](const std::string& value) -> std::string {
    boost::json::object o{{"title", value}};
    try {
      optional_text(o, "title");
    } catch (const reel::error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message_of("caf\xe9").find("\"title\" must be valid UTF-8"), std::string::npos);
  EXPECT_NE(message_of("x\xe2\x80\xaey").find("bidirectional"), std::string::npos);
  EXPECT_EQ(message_of("Caf\xc3\xa9"), "");
  // The multipart and tus doors use the same rules.
  EXPECT_THROW(video_text_fields(std::string("caf\xe9"), std::nullopt, "a.mp4"), reel::error);
  EXPECT_THROW(video_text_fields(std::nullopt, std::string("x\xe2\x81\xa7"), "a.mp4"), reel::error);
  EXPECT_EQ(video_text_fields(std::nullopt, std::nullopt, "clip.mp4").first, "clip");
}

TEST(input, file_names_lose_invalid_bytes_controls_and_overrides) {
  EXPECT_EQ(clean_filename("holiday\xe2\x80\xaegpj.exe"), "holidaygpj.exe");
  EXPECT_EQ(clean_filename("caf\xe9.mp4"), "caf.mp4");
  EXPECT_EQ(clean_filename("\xc0\xaf\xc0\xaf"
                           "etc.mp4"),
            "etc.mp4");
  EXPECT_EQ(clean_filename("../../x\x01y.mp4"), "xy.mp4");
  EXPECT_EQ(clean_filename("Caf\xc3\xa9 \xf0\x9f\x8e\xac.mov"), "Caf\xc3\xa9 \xf0\x9f\x8e\xac.mov");
  EXPECT_EQ(clean_filename("\xe2\x80\xae"), "upload");
}
