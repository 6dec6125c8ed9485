// Signed playback links: a token that lets anyone holding it play one
// video until it expires, with no session. The token is
//   p.<expiry, Unix seconds>.<base64url HMAC-SHA256, 43 chars>
// where the MAC covers the scope ("p": playback), the video id and the
// expiry, under a key derived from REEL_SECRET_KEY. A key rotation keeps
// the previous secret's links working until they expire
// (REEL_SECRET_KEY_PREVIOUS). Verification compares in constant time and
// never says which part of a bad token was wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::auth {

enum class token_check { valid, expired, invalid };

class playback_signer {
 public:
  // `secret`: REEL_SECRET_KEY; `previous`: REEL_SECRET_KEY_PREVIOUS ("" for none).
  explicit playback_signer(std::string_view secret, std::string_view previous = {});

  // A token for `video_id` valid until `expires_unix`.
  std::string sign(std::string_view video_id, std::int64_t expires_unix) const;

  // Whether `token` lets its holder play `video_id` at `now_unix`:
  // `expired` only for a token this server signed (with either key) whose
  // time has passed; `invalid` for anything else (malformed, too long,
  // tampered, another video's, a key nobody holds any more).
  token_check verify(std::string_view token, std::string_view video_id, std::int64_t now_unix) const;

  // The longest a token may be (longer ones are invalid before any work).
  static constexpr std::size_t k_max_length = 80;

 private:
  std::string key_, previous_key_;
};

// The key of one purpose derived from a secret: HMAC-SHA256(secret, purpose),
// so that one secret signs several kinds of things that cannot be swapped.
std::string derive_key(std::string_view secret, std::string_view purpose);

// HMAC-SHA256 of `message` under `key` (32 raw bytes).
std::string hmac_sha256(std::string_view key, std::string_view message);

// Unpadded base64url.
std::string base64url_encode(std::string_view bytes);

}  // namespace reel::auth
