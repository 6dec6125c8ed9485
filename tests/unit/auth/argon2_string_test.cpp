#include "auth/argon2_string.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace reel::auth;

namespace {
const std::string k_sodium_hash =
    "$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8";
}

TEST(argon2_string, libsodium_string_parses_and_formats_back_to_itself) {
  auto h = parse_argon2id(k_sodium_hash);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->memory_kib, 65536u);
  EXPECT_EQ(h->passes, 3u);
  EXPECT_EQ(h->lanes, 1u);
  EXPECT_EQ(h->salt.size(), 16u);
  EXPECT_EQ(h->hash.size(), 32u);
  EXPECT_EQ(format_argon2id(*h), k_sodium_hash);
}

TEST(argon2_string, other_algorithms_versions_and_spellings_are_refused) {
  const std::string tail = "$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8";
  EXPECT_TRUE(parse_argon2id("$argon2id$v=19$m=65536,t=3,p=1" + tail));
  const std::vector<std::string> bad_strings = {
      "$argon2i$v=19$m=65536,t=3,p=1" + tail, "$argon2d$v=19$m=65536,t=3,p=1" + tail,
      "$argon2id$v=16$m=65536,t=3,p=1" + tail, "$argon2id$m=65536,t=3,p=1" + tail,
      "$argon2id$v=19$m=065536,t=3,p=1" + tail, "$argon2id$v=19$m=65536,t=0,p=1" + tail,
      "$argon2id$v=19$m=65536,t=3,p=0" + tail, "$argon2id$v=19$m=65536,p=1,t=3" + tail,
      "$argon2id$v=19$m=7,t=3,p=1" + tail, "$argon2id$v=19$m=+65536,t=3,p=1" + tail,
      "$argon2id$v=19$m=65536,t=3,p=1" + tail + "=", "$argon2id$v=19$m=65536,t=3,p=1" + tail + "$",
      "$argon2id$v=19$m=65536,t=3,p=1$$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8",
      "$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNQ",
      // last base64 character with bits set past the data: not the one spelling
      "$argon2id$v=19$m=65536,t=3,p=1$z+ts8HOp8VxopgA0QUOxNR$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8",
      std::string("")};
  for (const std::string& bad : bad_strings) EXPECT_FALSE(parse_argon2id(bad)) << bad;
}

TEST(argon2_string, limits_bound_memory_passes_and_lanes) {
  const std::string tail = "$z+ts8HOp8VxopgA0QUOxNQ$HiCVhi77QX7WyiFSeqtOQJucpEAKLzkPMwwfw5+4vZ8";
  auto with = [&](std::uint32_t m, std::uint32_t t, std::uint32_t p) {
    return "$argon2id$v=19$m=" + std::to_string(m) + ",t=" + std::to_string(t) + ",p=" + std::to_string(p) + tail;
  };
  EXPECT_TRUE(parse_argon2id(with(k_argon2_max_memory_kib, 1, 1)));
  EXPECT_FALSE(parse_argon2id(with(k_argon2_max_memory_kib + 1, 1, 1)));
  EXPECT_TRUE(parse_argon2id(with(1024, k_argon2_max_passes, 1)));
  EXPECT_FALSE(parse_argon2id(with(1024, k_argon2_max_passes + 1, 1)));
  EXPECT_TRUE(parse_argon2id(with(1024, 1, k_argon2_max_lanes)));
  EXPECT_FALSE(parse_argon2id(with(1024, 1, k_argon2_max_lanes + 1)));
  EXPECT_FALSE(parse_argon2id(with(15, 1, 2)));  // 8 KiB per lane at least
  EXPECT_FALSE(parse_argon2id("$argon2id$v=19$m=99999999999,t=1,p=1" + tail));
}
