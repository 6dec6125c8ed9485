#include "auth/tokens.hpp"

#include "core/ids.hpp"

#include <sodium.h>

namespace reel::auth {

std::string new_token() { return ids::random_secret(32); }

bool is_token_shaped(std::string_view token) noexcept {
  if (token.size() != 43) return false;
  for (char c : token)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

std::string new_api_key() { return std::string(k_api_key_prefix) + new_token(); }

bool is_api_key(std::string_view token) noexcept { return token.starts_with(k_api_key_prefix); }

bool is_api_key_shaped(std::string_view token) noexcept {
  return is_api_key(token) && is_token_shaped(token.substr(k_api_key_prefix.size()));
}

std::string hash_token(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace reel::auth
