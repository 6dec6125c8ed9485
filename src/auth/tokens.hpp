// Session tokens: 256 random bits, given to the client once; the database keeps
// only their SHA-256, so a leaked database does not leak usable tokens.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace reel::auth {

// A new token: 43 characters of base64url.
std::string new_token();

// True when `token` has the shape new_token() makes (cheap pre-check
// before any lookup).
bool is_token_shaped(std::string_view token) noexcept;

// API keys: "reel_sk_" and a new_token() (256 random bits from the OS
// CSPRNG), 51 characters. Stored as hash_token() of the whole key, like
// session tokens: a lookup by that hash compares no secret byte by byte.
inline constexpr std::string_view k_api_key_prefix = "reel_sk_";
// Characters of a key shown to tell keys apart ("reel_sk_" and 8 more).
inline constexpr std::size_t k_api_key_shown_chars = 16;
std::string new_api_key();
// True when `token` starts with "reel_sk_" (a key, well-formed or not).
bool is_api_key(std::string_view token) noexcept;
// True when `token` has the shape new_api_key() makes.
bool is_api_key_shaped(std::string_view token) noexcept;

// Lower-case hex SHA-256 of the token.
std::string hash_token(std::string_view token);

}  // namespace reel::auth
