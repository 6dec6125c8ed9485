#include "auth/passwords.hpp"
#include "auth/throttle.hpp"
#include "auth/tokens.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

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

// Made with libsodium 1.0.18's crypto_pwhash_str_alg (what reel hashed with
// before it kept each thread's working memory): stored hashes must keep working.
TEST(passwords, hashes_made_by_libsodium_still_verify) {
  const std::string stored[] = {
      "$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8",
      "$argon2id$v=19$m=8192,t=1,p=1$D6JGKjNVLgb/UjoWU8rR0Q$tn7fGw6neO+UfH22uVuwmMhiEy5aZ0f6euMu7yWZUKU"};
  for (const auto& h : stored) {
    EXPECT_TRUE(verify_password(h, "correct horse battery")) << h;
    EXPECT_FALSE(verify_password(h, "correct horse batterY")) << h;
  }
  const std::string empty =
      "$argon2id$v=19$m=1024,t=2,p=1$y7egUUh4qGls5h8VyENcQw$b3fh4VBL5gyCK/OF9luVdzETAUiAbWxihamMMXuh+Mc";
  EXPECT_TRUE(verify_password(empty, ""));
  EXPECT_FALSE(verify_password(empty, " "));
}

TEST(passwords, new_hashes_verify_with_libsodium) {
  auto h = hash_password("correct horse", {1, 8 << 20});
  std::string_view pw = "correct horse";
  EXPECT_EQ(crypto_pwhash_str_verify(h.c_str(), pw.data(), pw.size()), 0) << h;
  EXPECT_NE(crypto_pwhash_str_verify(h.c_str(), "x", 1), 0) << h;
}

TEST(passwords, a_thread_hashes_again_with_smaller_and_larger_costs) {
  auto small = hash_password("a", {1, 1 << 20});
  auto large = hash_password("b", {1, 16 << 20});
  auto again = hash_password("c", {1, 1 << 20});
  EXPECT_TRUE(verify_password(small, "a"));
  EXPECT_TRUE(verify_password(large, "b"));
  EXPECT_TRUE(verify_password(again, "c"));
  EXPECT_FALSE(verify_password(again, "a"));
}

TEST(passwords, malformed_or_oversized_stored_hashes_do_not_verify) {
  const std::string good =
      "$argon2id$v=19$m=1024,t=2,p=1$y7egUUh4qGls5h8VyENcQw$b3fh4VBL5gyCK/OF9luVdzETAUiAbWxihamMMXuh+Mc";
  EXPECT_TRUE(verify_password(good, ""));
  for (std::string bad : {good.substr(0, good.size() - 1), good + "=", "$argon2i$" + good.substr(10),
                          std::string("$argon2id$v=19$m=8388608,t=2,p=1$y7egUUh4qGls5h8VyENcQw$"
                                      "b3fh4VBL5gyCK/OF9luVdzETAUiAbWxihamMMXuh+Mc"),
                          std::string("$argon2id$v=16$m=1024,t=2,p=1$y7egUUh4qGls5h8VyENcQw$"
                                      "b3fh4VBL5gyCK/OF9luVdzETAUiAbWxihamMMXuh+Mc")})
    EXPECT_FALSE(verify_password(bad, "")) << bad;
}

TEST(passwords, default_cost_is_argon2id_t3_m64mib) {
  auto h = hash_password("x", {});
  EXPECT_NE(h.find("m=65536,t=3"), std::string::npos) << h;
}

TEST(passwords, a_hash_of_another_cost_is_told_apart) {
  const std::string m64t3 =
      "$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8";
  EXPECT_FALSE(hashed_at_other_cost(m64t3, {}));
  EXPECT_TRUE(hashed_at_other_cost(m64t3, {2, 64 << 20}));
  EXPECT_TRUE(hashed_at_other_cost(m64t3, {3, 19 << 20}));
  EXPECT_FALSE(hashed_at_other_cost(hash_password("x", {2, 19 << 20}), {2, 19 << 20}));
  std::string two_lanes = m64t3;
  two_lanes.replace(two_lanes.find("p=1"), 3, "p=2");
  EXPECT_TRUE(hashed_at_other_cost(two_lanes, {}));
  EXPECT_TRUE(hashed_at_other_cost("not a hash", {}));
  EXPECT_TRUE(hashed_at_other_cost("", {}));
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

TEST(tokens, api_keys_are_reel_sk_and_256_random_bits_and_only_their_shape_passes) {
  auto a = new_api_key(), b = new_api_key();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 51u);
  EXPECT_TRUE(a.starts_with("reel_sk_"));
  EXPECT_TRUE(is_api_key_shaped(a));
  EXPECT_TRUE(is_api_key(a));
  EXPECT_FALSE(is_token_shaped(a));
  EXPECT_FALSE(is_api_key_shaped(a.substr(0, 50)));
  EXPECT_FALSE(is_api_key_shaped(a + "A"));
  EXPECT_FALSE(is_api_key_shaped(a.substr(8)));
  EXPECT_FALSE(is_api_key_shaped("reel_sk_" + std::string(43, '!')));
  EXPECT_TRUE(is_api_key("reel_sk_"));
  EXPECT_FALSE(is_api_key("REEL_SK_" + a.substr(8)));
  EXPECT_EQ(hash_token(a).size(), 64u);
}

TEST(login_throttle, delay_doubles_after_the_free_failures_up_to_the_cap) {
  EXPECT_EQ(throttle_delay(0, 3, 1s, 900s), 0ms);
  EXPECT_EQ(throttle_delay(3, 3, 1s, 900s), 0ms);
  EXPECT_EQ(throttle_delay(4, 3, 1s, 900s), 1s);
  EXPECT_EQ(throttle_delay(5, 3, 1s, 900s), 2s);
  EXPECT_EQ(throttle_delay(8, 3, 1s, 900s), 16s);
  EXPECT_EQ(throttle_delay(20, 3, 1s, 900s), 900s);
  EXPECT_EQ(throttle_delay(1000, 3, 1s, 60s), 60s);  // no overflow
}

TEST(login_throttle, slows_an_email_down_without_locking_it) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 3; ++i) {  // three free failures
    EXPECT_FALSE(t.retry_after("a@x", "1.1.1." + std::to_string(i)));
    t.record_failure("a@x", "1.1.1." + std::to_string(i));
  }
  EXPECT_FALSE(t.retry_after("a@x", "1.1.1.9"));
  t.record_failure("a@x", "1.1.1.4");  // 4th: 1 s
  EXPECT_EQ(t.retry_after("a@x", "9.9.9.9"), 1s);
  clock.advance(1s);
  EXPECT_FALSE(t.retry_after("a@x", "9.9.9.9"));
  t.record_failure("a@x", "1.1.1.5");  // 5th: 2 s
  EXPECT_EQ(t.retry_after("a@x", "9.9.9.9"), 2s);
  EXPECT_FALSE(t.retry_after("b@x", "9.9.9.9"));  // other emails are not slowed
  clock.advance(2s);
  EXPECT_FALSE(t.retry_after("a@x", "9.9.9.9"));  // after the delay the right password may be tried
  for (int i = 0; i < 30; ++i) t.record_failure("a@x", "1.1.1.6");
  EXPECT_EQ(t.retry_after("a@x", "9.9.9.9"), 15min);  // the cap
  clock.advance(15min);
  EXPECT_FALSE(t.retry_after("a@x", "9.9.9.9"));  // failures leave the window: never a lock-out
}

TEST(login_throttle, slows_an_address_trying_many_emails_briefly) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 20; ++i) t.record_failure("user" + std::to_string(i) + "@x", "6.6.6.6");
  EXPECT_FALSE(t.retry_after("fresh@x", "6.6.6.6"));  // 20 free: a NAT full of people who mistype
  for (int i = 20; i < 40; ++i) t.record_failure("user" + std::to_string(i) + "@x", "6.6.6.6");
  auto wait = t.retry_after("fresh@x", "6.6.6.6");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 60s);  // an address's delay is capped at a minute
  EXPECT_FALSE(t.retry_after("fresh@x", "7.7.7.7"));
}

TEST(login_throttle, success_clears_the_email_failures) {
  reel::manual_clock clock;
  login_throttle t(clock);
  for (int i = 0; i < 6; ++i) t.record_failure("a@x", "1.1.1.1");
  EXPECT_TRUE(t.retry_after("a@x", "2.2.2.2"));
  t.record_success("a@x");
  t.record_failure("a@x", "1.1.1.1");
  EXPECT_FALSE(t.retry_after("a@x", "2.2.2.2"));
}

TEST(login_throttle, memory_stays_bounded_under_a_flood_of_keys) {
  reel::manual_clock clock;
  login_throttle t(clock, {.free_failures_per_email = 3, .free_failures_per_address = 20, .max_tracked_keys = 100});
  for (int i = 0; i < 10'000; ++i) t.record_failure("e" + std::to_string(i), "a" + std::to_string(i));
  // The newest keys are still tracked; nothing crashed or grew without bound.
  for (int i = 0; i < 4; ++i) t.record_failure("e9999", "z");
  EXPECT_TRUE(t.retry_after("e9999", "q"));
}
