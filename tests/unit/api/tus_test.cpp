#include "api/tus.hpp"

#include "core/digest.hpp"
#include "core/errors.hpp"

#include <gtest/gtest.h>

using namespace reel;

namespace {
errc tus_code_of(auto f) {
  try {
    f();
  } catch (const error& e) {
    return e.code();
  }
  return errc::internal;
}
}  // namespace

TEST(tus_headers, numbers_are_plain_digits) {
  EXPECT_EQ(api::parse_upload_number("", "Upload-Length"), std::nullopt);
  EXPECT_EQ(api::parse_upload_number("0", "Upload-Length"), 0u);
  EXPECT_EQ(api::parse_upload_number("999999999999999", "Upload-Length"), 999999999999999u);
  for (std::string_view bad : {"1234567890123456", "-1", "+1", " 1", "1e3", "0x10"})
    EXPECT_EQ(tus_code_of([&] { api::parse_upload_number(bad, "Upload-Offset"); }), errc::bad_request) << bad;
}

TEST(tus_headers, checksum_is_sha1_of_twenty_bytes) {
  std::string digest(20, '\x07');
  EXPECT_EQ(api::parse_upload_checksum("sha1 " + base64_encode(digest)), digest);
  EXPECT_EQ(api::parse_upload_checksum("SHA1 " + base64_encode(digest)), digest);
  EXPECT_EQ(api::parse_upload_checksum(""), std::nullopt);
  EXPECT_EQ(tus_code_of([] { api::parse_upload_checksum("md5 AAAA"); }), errc::bad_request);
  EXPECT_EQ(tus_code_of([] { api::parse_upload_checksum("sha1"); }), errc::bad_request);
  EXPECT_EQ(tus_code_of([] { api::parse_upload_checksum("sha1 " + base64_encode("short")); }), errc::bad_request);
}

TEST(tus_headers, metadata_pairs_are_unique_keys_with_base64_values) {
  auto m = api::parse_upload_metadata("filename " + base64_encode("a.mp4") + ", flag ,title " + base64_encode("T"));
  ASSERT_TRUE(m);
  EXPECT_EQ(*m,
            (std::vector<std::pair<std::string, std::string>>{{"filename", "a.mp4"}, {"flag", ""}, {"title", "T"}}));
  EXPECT_FALSE(api::parse_upload_metadata("a YQ==,a YQ=="));
  EXPECT_FALSE(api::parse_upload_metadata("a not-base64"));
  EXPECT_FALSE(api::parse_upload_metadata("a YQ== YQ=="));
  EXPECT_FALSE(api::parse_upload_metadata(",a"));
}
