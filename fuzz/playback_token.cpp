// Signed playback links (src/auth/playback_tokens.hpp): any token against a
// video id and a time. Invariants: nothing over the length limit or without
// the signer's MAC is valid or expired; a token the signer made verifies as
// valid before its expiry and expired from then on, and changing any one of
// its bytes makes it invalid.
#include "auth/playback_tokens.hpp"
#include "fuzz.hpp"

#include <string>

using reel::auth::playback_signer;
using reel::auth::token_check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const playback_signer signer("fuzzing-secret-of-at-least-32-characters", "previous-secret-of-32-characters!");
  reel::fuzz::input in(data, size);
  const std::int64_t now = static_cast<std::int64_t>(in.u64() >> 2);
  const std::string video(in.text());
  const std::string token(in.rest());

  const token_check c = signer.verify(token, video, now);
  if (token.size() > playback_signer::k_max_length) FUZZ_CHECK(c == token_check::invalid);
  // A fuzzer does not find HMAC-SHA256 forgeries: what it made up is invalid,
  // unless it is exactly what the signer makes.
  if (c != token_check::invalid) {
    auto dot = token.rfind('.');
    FUZZ_CHECK(dot != std::string::npos);
    std::int64_t expiry = std::stoll(token.substr(2, dot - 2));
    FUZZ_CHECK(signer.sign(video, expiry) == token);
  }

  // What the signer makes round-trips, and one changed byte breaks it.
  const std::int64_t expiry = 1 + static_cast<std::int64_t>(in.u64() % 4'000'000'000ULL);
  const std::string made = signer.sign(video, expiry);
  FUZZ_CHECK(made.size() <= playback_signer::k_max_length);
  FUZZ_CHECK(signer.verify(made, video, expiry - 1) == token_check::valid);
  FUZZ_CHECK(signer.verify(made, video, expiry) == token_check::expired);
  if (!token.empty()) {
    std::string changed = made;
    std::size_t at = static_cast<unsigned char>(token[0]) % changed.size();
    changed[at] = static_cast<char>(changed[at] ^ (1 + (static_cast<unsigned char>(token.back()) % 127)));
    FUZZ_CHECK(signer.verify(changed, video, expiry - 1) == token_check::invalid);
  }
  return 0;
}
