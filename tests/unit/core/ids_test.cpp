#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <set>

// One id in 64 would begin with "-" if drawn plainly; 4,000 draws would show
// about 62 of them. None may, and the ids stay base64url of their length.
TEST(ids, a_random_id_never_begins_with_a_dash_and_stays_base64url) {
  std::set<char> firsts;
  std::set<std::string> seen;
  for (int i = 0; i < 4000; ++i) {
    std::string id = reel::ids::random_id(12);
    ASSERT_EQ(id.size(), 16u) << id;
    ASSERT_TRUE(reel::ids::is_safe_token(id)) << id;
    ASSERT_EQ(id.find('.'), std::string::npos) << id;
    ASSERT_NE(id.front(), '-') << id;
    firsts.insert(id.front());
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 4000u);
  // The other 63 letters still begin ids ("_" among them).
  EXPECT_EQ(firsts.size(), 63u);
  EXPECT_TRUE(firsts.count('_'));
  EXPECT_EQ(reel::ids::random_id(9).size(), 12u);
  EXPECT_EQ(reel::ids::random_id(32).size(), 43u);
}

// Secrets (tokens, API keys) keep every bit drawn: "-" may begin one.
TEST(ids, a_random_secret_is_base64url_of_its_length_and_may_begin_with_a_dash) {
  std::set<char> firsts;
  for (int i = 0; i < 4000; ++i) {
    std::string s = reel::ids::random_secret(32);
    ASSERT_EQ(s.size(), 43u) << s;
    ASSERT_TRUE(reel::ids::is_safe_token(s)) << s;
    firsts.insert(s.front());
  }
  EXPECT_EQ(firsts.size(), 64u);
}
