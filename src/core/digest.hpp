// Digests and encodings of bytes: SHA-1 (tus's mandatory checksum
// algorithm) and standard base64 (tus metadata and checksums). SHA-1 is used
// for integrity against accidents only, never for security.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel {

class sha1 {
 public:
  sha1();
  void update(std::string_view bytes) noexcept;
  // The 20-byte digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 20> finish() noexcept;

 private:
  alignas(8) unsigned char state_[128];
};

// Standard base64 with padding ("Kq5sNclPz7QV2+lfQIuc6R7oRu0=").
std::string base64_encode(std::string_view bytes);
// Strict: nullopt for anything that is not canonical padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace reel
