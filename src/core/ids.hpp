// Random, URL-safe identifiers from the operating system's CSPRNG (libsodium).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace reel::ids {

// `bytes` random bytes encoded as unpadded base64url (4 chars per 3 bytes),
// all of them as drawn: for tokens and secrets.
std::string random_secret(std::size_t bytes);

// The same for an id, which never begins with "-" (it would read as a flag
// on a command line; drawn again when it would).
std::string random_id(std::size_t bytes = 12);

// A 16-character id that is unique in practice but not unpredictable: for
// request ids and log correlation, where a CSPRNG call per request would cost
// a system call. Never use it for anything secret.
std::string fast_id();

// True when `id` is 1..128 characters of [A-Za-z0-9._-]: safe to echo in a
// header, log or path component.
bool is_safe_token(std::string_view id) noexcept;

}  // namespace reel::ids
