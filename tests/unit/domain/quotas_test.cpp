// The quota arithmetic: what fits, the refusal's words, sizes for people,
// and the operator's quota syntax.
#include "domain/quotas.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace reel::domain;
using reel::db::storage_usage;

TEST(quotas, without_a_quota_everything_fits) {
  EXPECT_TRUE(fits({123, std::nullopt}, std::numeric_limits<std::int64_t>::max()));
}

TEST(quotas, exactly_the_room_left_fits_and_one_byte_more_does_not) {
  storage_usage u{600, 1000};
  EXPECT_TRUE(fits(u, 400));
  EXPECT_FALSE(fits(u, 401));
  EXPECT_TRUE(fits(u, 0));
  EXPECT_FALSE(fits({1000, 1000}, 1));
  EXPECT_TRUE(fits({1000, 1000}, 0));
}

TEST(quotas, a_huge_request_does_not_overflow_into_fitting) {
  EXPECT_FALSE(fits({10, 1000}, std::numeric_limits<std::int64_t>::max()));
  EXPECT_FALSE(fits({1500, 1000}, 1));  // already past it (outputs may take it there)
}

TEST(quotas, sizes_read_in_binary_units) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(20 * 1024 * 1024), "20.0 MiB");
  EXPECT_EQ(format_bytes(std::int64_t(3) << 30), "3.0 GiB");
  EXPECT_EQ(format_bytes(std::int64_t(5) << 40), "5.0 TiB");
}

TEST(quotas, the_refusal_is_413_with_used_and_quota) {
  auto e = quota_exceeded({1536, 2048});
  EXPECT_EQ(e.code(), reel::errc::payload_too_large);
  EXPECT_STREQ(e.what(), "storage quota exceeded: 1.5 KiB of 2.0 KiB used");
}

TEST(quotas, operators_write_bytes_units_or_none) {
  EXPECT_EQ(parse_quota("none"), std::optional<std::optional<std::int64_t>>(std::optional<std::int64_t>()));
  EXPECT_EQ(parse_quota("0"), std::optional<std::int64_t>(0));
  EXPECT_EQ(parse_quota("1048576"), std::optional<std::int64_t>(1048576));
  EXPECT_EQ(parse_quota("500M"), std::optional<std::int64_t>(500LL << 20));
  EXPECT_EQ(parse_quota("10GiB"), std::optional<std::int64_t>(10LL << 30));
  EXPECT_EQ(parse_quota("2K"), std::optional<std::int64_t>(2048));
  EXPECT_EQ(parse_quota("1T"), std::optional<std::int64_t>(1LL << 40));
  EXPECT_EQ(parse_quota("7B"), std::optional<std::int64_t>(7));
  for (const char* bad : {"", "-1", "abc", "10X", "1.5G", "None", "99999999999999999999", "9999999999T"})
    EXPECT_FALSE(parse_quota(bad)) << bad;
}
