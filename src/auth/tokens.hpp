// Session tokens: 256 random bits, given to the client once; the database keeps
// only their SHA-256, so a leaked database does not leak usable tokens.
#pragma once

#include <string>
#include <string_view>

namespace reel::auth {

// A new token: 43 characters of base64url.
std::string new_token();

// True when `token` has the shape new_token() makes (cheap pre-check
// before any lookup).
bool is_token_shaped(std::string_view token) noexcept;

// Lower-case hex SHA-256 of the token.
std::string hash_token(std::string_view token);

}  // namespace reel::auth
