// The password policy with Debian's cracklib dictionary: what it refuses,
// why, and that ordinary passphrases pass.
#include "auth/password_policy.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace reel::auth;

TEST(password_shape, counts_characters_without_the_spaces_at_either_end) {
  EXPECT_FALSE(shape_problem("correct horse"));
  EXPECT_FALSE(shape_problem("ñandú-ñandú"));  // 11 characters, more bytes
  ASSERT_TRUE(shape_problem("        "));
  EXPECT_EQ(*shape_problem("        "), "must not be only spaces");
  EXPECT_TRUE(shape_problem("\t \n \r  \t"));
  ASSERT_TRUE(shape_problem("   1234567   "));  // 7 once trimmed
  EXPECT_NE(shape_problem("   1234567   ")->find("at least 8"), std::string::npos);
  EXPECT_TRUE(shape_problem("ñandúñá"));  // 7 characters, 10 bytes
  EXPECT_TRUE(shape_problem(std::string(1025, 'x')));
  EXPECT_FALSE(shape_problem(std::string(1024, 'x')));
}

TEST(password_policy, the_dictionary_is_installed) { EXPECT_NO_THROW(password_policy().check_dictionary()); }

TEST(password_policy, refuses_what_a_guesser_tries_first_and_says_why) {
  password_policy p;
  struct refused {
    const char* password;
    const char* why;
  } cases[] = {
      {"12345678", "simplistic"},
      {"Tr0ub4dor&3", "dictionary word"},  // xkcd 936
      {"password", "dictionary word"},
      {"password1", "dictionary word"},
      {"P@ssw0rd", "dictionary word"},      // l33t undone
      {"sunshine2020", "dictionary word"},  // digits around a word set aside
      {"!!dragonfly99", "dictionary word"},
      {"qwertyuiop", "dictionary word"},
      {"aaaaaaaaaa", "DIFFERENT"},
      {"abcdefgh", "simplistic"},
      {"        ", "spaces"},
  };
  for (const auto& c : cases) {
    auto why = p.weakness(c.password);
    ASSERT_TRUE(why) << c.password;
    EXPECT_NE(why->find(c.why), std::string::npos) << c.password << ": " << *why;
  }
}

TEST(password_policy, refuses_the_persons_own_email_and_name) {
  password_policy p;
  auto why = p.weakness("jonathan.s", "jonathan.s@example.com", "Jonathan Smith");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("username"), std::string::npos) << *why;
  EXPECT_TRUE(p.weakness("Jonathan Smith", "js@example.com", "Jonathan Smith"));
}

TEST(password_policy, accepts_passphrases_and_random_strings) {
  password_policy p;
  for (const char* ok : {"correct horse", "correct horse battery staple", "vq8#Lm2!zR", "my cat likes jazz",
                         "alice-s3cret-words", "ein Satz mit Wörtern", "    purple monkey dishwasher    "})
    EXPECT_FALSE(p.weakness(ok, "alice@example.com", "Alice")) << ok << ": " << *p.weakness(ok);
}

TEST(password_policy, a_missing_dictionary_is_an_error_not_a_pass) {
  password_policy p("/nonexistent/cracklib_dict");
  EXPECT_THROW(p.check_dictionary(), std::runtime_error);
  EXPECT_THROW(p.weakness("correct horse"), std::runtime_error);
}
