#include "webhooks/sender.hpp"

#include <gtest/gtest.h>

using namespace reel::webhooks;

TEST(webhook_sender, attempts_carry_the_standard_webhooks_headers) {
  auto h = signed_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                          R"({"test": 2432232314})");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"webhook-timestamp", "1614265330"}));
  EXPECT_EQ(h[2], (std::pair<std::string, std::string>{"webhook-signature",
                                                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}));
}

TEST(webhook_sender, logged_bodies_are_cut_at_a_character_and_made_valid_utf8) {
  EXPECT_EQ(loggable_body("ok"), "ok");
  EXPECT_EQ(loggable_body(std::string(2000, 'a')).size(), 1024u);
  EXPECT_EQ(loggable_body("h\xc3\xa9llo", 2), "h");  // é does not fit: not cut in half
  EXPECT_EQ(loggable_body("h\xc3\xa9llo", 3), "h\xc3\xa9");
  EXPECT_EQ(loggable_body(std::string("a\0b", 3)), "a?b");
  EXPECT_EQ(loggable_body("\xff\xfe"), "??");
  EXPECT_EQ(loggable_body("\xed\xa0\x80"), "???");  // a surrogate
}
