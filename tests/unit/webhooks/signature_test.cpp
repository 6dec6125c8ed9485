#include "webhooks/signature.hpp"

#include "core/digest.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace reel::webhooks;

// The vector the Standard Webhooks reference libraries test against.
TEST(webhook_signature, matches_the_standard_webhooks_test_vector) {
  EXPECT_EQ(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                 R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(webhook_signature, changes_with_the_id_the_timestamp_and_the_body) {
  const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto base = sign(secret, "msg_1", 1, "{}");
  EXPECT_NE(sign(secret, "msg_2", 1, "{}"), base);
  EXPECT_NE(sign(secret, "msg_1", 2, "{}"), base);
  EXPECT_NE(sign(secret, "msg_1", 1, "{ }"), base);
  EXPECT_EQ(sign(secret, "msg_1", 1, "{}"), base);
}

TEST(webhook_signature, new_secrets_are_whsec_and_24_random_bytes) {
  auto a = new_secret(), b = new_secret();
  EXPECT_NE(a, b);
  ASSERT_TRUE(a.starts_with("whsec_"));
  auto key = secret_key(a);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 24u);
  EXPECT_EQ("whsec_" + reel::base64_encode(*key), a);
}

TEST(webhook_signature, secrets_that_are_not_whsec_base64_are_refused) {
  EXPECT_FALSE(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  EXPECT_FALSE(secret_key("whsec_"));
  EXPECT_FALSE(secret_key("whsec_not base64!"));
  EXPECT_THROW(sign("whsec_!!", "msg", 1, "{}"), std::invalid_argument);
}
