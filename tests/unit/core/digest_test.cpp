#include "core/digest.hpp"

#include <gtest/gtest.h>

namespace {
std::string digest_of(std::string_view text, std::size_t piece) {
  reel::sha1 h;
  for (std::size_t i = 0; i < text.size(); i += piece) h.update(text.substr(i, piece));
  auto d = h.finish();
  return reel::base64_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}
}  // namespace

TEST(digest, sha1_matches_the_known_vectors_whatever_the_pieces) {
  // FIPS 180-2 vectors, as the base64 digests tus sends.
  EXPECT_EQ(digest_of("", 1), "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
  EXPECT_EQ(digest_of("abc", 1), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  std::string million(1'000'000, 'a');
  EXPECT_EQ(digest_of(million, 4093), "NKqXPNTE2qT2Husr260nMWU0AW8=");
  EXPECT_EQ(digest_of(million, 1 << 20), "NKqXPNTE2qT2Husr260nMWU0AW8=");
}

TEST(digest, base64_round_trips_and_refuses_what_is_not_base64) {
  EXPECT_EQ(reel::base64_encode("world_domination_plan.pdf"), "d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==");
  EXPECT_EQ(reel::base64_decode("d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg=="), "world_domination_plan.pdf");
  EXPECT_EQ(reel::base64_decode(""), "");
  for (const char* bad : {"d29y bGQ=", "d29ybGQ", "d29ybGQ==x", "d29y*GQ=", "-_-_", "===="})
    EXPECT_EQ(reel::base64_decode(bad), std::nullopt) << bad;
}

// Found by fuzz/tus.cpp: libsodium's decoder read bytes 0x80 and up as
// digits, so "QUJ\x80" decoded to three bytes (an Upload-Checksum or
// Upload-Metadata value with non-ASCII bytes was taken as base64).
TEST(digest, base64_refuses_bytes_outside_the_alphabet) {
  for (std::string_view bad : {"QUJ\x80", "Q\x89Q=", "EfatjsUqKYS\x89qv18O1FlA3hcIHI=", "QUJD\xff\xff\xff\xff"})
    EXPECT_EQ(reel::base64_decode(bad), std::nullopt);
  EXPECT_EQ(reel::base64_decode("QUJD"), "ABC");
}
