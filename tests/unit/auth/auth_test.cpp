#include "auth/passwords.hpp"
#include "auth/throttle.hpp"
#include "auth/tokens.hpp"

#include <gtest/gtest.h>

using namespace reel::auth;
using namespace std::chrono_literals;

TEST(passwords, hash_verifies_only_the_same_password) {
  password_cost cheap{1, 8 << 20};
  auto h = hash_password("correct horse", cheap);
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password(h, "correct horse"));
  EXPECT_FALSE(verify_password(h, "correct horsE"));
  EXPECT_FALSE(verify_password(h, ""));
  EXPECT_NE(hash_password("correct horse", cheap), h);  // salted
  EXPECT_FALSE(verify_password("not a hash", "x"));
}

TEST(passwords, default_cost_is_argon2id_t3_m64mib) {
  auto h = hash_password("x", {});
  EXPECT_NE(h.find("m=65536,t=3"), std::string::npos) << h;
}

TEST(tokens, new_tokens_are_unique_well_formed_and_hashed) {
  auto a = new_token(), b = new_token();
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_token_shaped(a));
  EXPECT_FALSE(is_token_shaped(a.substr(1)));
  EXPECT_FALSE(is_token_shaped(std::string(43, '!')));
  EXPECT_EQ(hash_token(a).size(), 64u);
  EXPECT_EQ(hash_token(a), hash_token(a));
  EXPECT_NE(hash_token(a), hash_token(b));
  EXPECT_EQ(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(login_throttle, blocks_an_email_after_five_failures_until_the_window_passes) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(t.retry_after("a@x", "1.1.1." + std::to_string(i)));
    t.record_failure("a@x", "1.1.1." + std::to_string(i));
    clock.advance(1s);
  }
  auto wait = t.retry_after("a@x", "9.9.9.9");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 15min - 5s);
  EXPECT_FALSE(t.retry_after("b@x", "9.9.9.9"));
  clock.advance(15min - 5s);
  EXPECT_FALSE(t.retry_after("a@x", "9.9.9.9"));
}

TEST(login_throttle, blocks_an_address_trying_many_emails) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 20; ++i) t.record_failure("user" + std::to_string(i) + "@x", "6.6.6.6");
  EXPECT_TRUE(t.retry_after("fresh@x", "6.6.6.6"));
  EXPECT_FALSE(t.retry_after("fresh@x", "7.7.7.7"));
}

TEST(login_throttle, success_clears_the_email_failures) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 4; ++i) t.record_failure("a@x", "1.1.1.1");
  t.record_success("a@x");
  t.record_failure("a@x", "1.1.1.1");
  EXPECT_FALSE(t.retry_after("a@x", "2.2.2.2"));
}

TEST(login_throttle, memory_stays_bounded_under_a_flood_of_keys) {
  reel::manual_clock clock;
  login_throttle t(clock,
                   {.failures_per_email = 5, .failures_per_address = 20, .window = 15min, .max_tracked_keys = 100});
  for (int i = 0; i < 10'000; ++i) t.record_failure("e" + std::to_string(i), "a" + std::to_string(i));
  // The newest keys are still tracked; nothing crashed or grew without bound.
  for (int i = 0; i < 4; ++i) t.record_failure("e9999", "z");
  EXPECT_TRUE(t.retry_after("e9999", "q"));
}
