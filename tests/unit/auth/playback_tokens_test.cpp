#include "auth/playback_tokens.hpp"

#include <gtest/gtest.h>

#include <string>

using reel::auth::playback_signer;
using reel::auth::token_check;

namespace {

constexpr std::string_view k_secret = "a-secret-of-at-least-thirty-two-characters";
constexpr std::string_view k_other = "another-secret-of-thirty-two-characters!!";
constexpr std::int64_t k_tokens_now = 1'800'000'000;

}  // namespace

TEST(playback_tokens, a_token_plays_its_video_until_it_expires) {
  playback_signer s(k_secret);
  std::string t = s.sign("vid123", k_tokens_now + 3600);
  EXPECT_TRUE(t.starts_with("p.1800003600."));
  EXPECT_LE(t.size(), playback_signer::k_max_length);
  EXPECT_EQ(s.verify(t, "vid123", k_tokens_now), token_check::valid);
  EXPECT_EQ(s.verify(t, "vid123", k_tokens_now + 3599), token_check::valid);
  EXPECT_EQ(s.verify(t, "vid123", k_tokens_now + 3600), token_check::expired);
  EXPECT_EQ(s.verify(t, "vid124", k_tokens_now), token_check::invalid);  // another video's
}

TEST(playback_tokens, any_change_to_a_token_makes_it_invalid_and_an_expired_forgery_is_not_called_expired) {
  playback_signer s(k_secret);
  std::string t = s.sign("v", k_tokens_now + 60);
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::string changed = t;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(s.verify(changed, "v", k_tokens_now), token_check::invalid) << changed;
  }
  // A later expiry with the old MAC: tampered, not "valid".
  std::string later = "p." + std::to_string(k_tokens_now + 999999) + t.substr(t.rfind('.'));
  EXPECT_EQ(s.verify(later, "v", k_tokens_now), token_check::invalid);
  // A past expiry with a made-up MAC: invalid (only genuine tokens expire).
  EXPECT_EQ(s.verify("p.1000." + std::string(43, 'A'), "v", k_tokens_now), token_check::invalid);
}

TEST(playback_tokens, malformed_tokens_are_invalid) {
  playback_signer s(k_secret);
  std::string mac(43, 'A');
  for (std::string bad : {std::string(), std::string("p"), std::string("p."), "p.." + mac, "x.1800003600." + mac,
                          "p.18000036OO." + mac, "p.-1800003600." + mac, "p.+1800003600." + mac, "p.01800003600." + mac,
                          "p.1800003600." + mac + "A", "p.1800003600." + mac.substr(1), "p.99999999999999999999." + mac,
                          "p.1800003600" + mac, std::string(10000, 'p'), "p.1800003600." + mac + std::string("\0", 1)})
    EXPECT_EQ(s.verify(bad, "v", k_tokens_now), token_check::invalid) << bad;
}

TEST(playback_tokens, the_previous_key_still_verifies_during_a_rotation) {
  playback_signer old_signer(k_other);
  std::string t = old_signer.sign("v", k_tokens_now + 60);
  EXPECT_EQ(playback_signer(k_secret).verify(t, "v", k_tokens_now), token_check::invalid);
  playback_signer rotated(k_secret, k_other);
  EXPECT_EQ(rotated.verify(t, "v", k_tokens_now), token_check::valid);
  EXPECT_EQ(rotated.verify(t, "v", k_tokens_now + 61), token_check::expired);
  EXPECT_EQ(rotated.verify(rotated.sign("v", k_tokens_now + 60), "v", k_tokens_now), token_check::valid);
  // Once the previous key is dropped, its tokens stop working.
  EXPECT_EQ(playback_signer(k_secret).verify(t, "v", k_tokens_now), token_check::invalid);
}

TEST(playback_tokens, hmac_matches_rfc_4231_and_base64url_has_no_padding) {
  // RFC 4231 test case 2.
  std::string mac = reel::auth::hmac_sha256("Jefe", "what do ya want for nothing?");
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  for (unsigned char c : mac) text += std::string{hex[c >> 4], hex[c & 15]};
  EXPECT_EQ(text, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(reel::auth::base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(reel::auth::base64url_encode("abc"), "YWJj");
  EXPECT_EQ(reel::auth::base64url_encode("a"), "YQ");
}
