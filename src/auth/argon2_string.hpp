// The text form of an argon2id hash, as libsodium and the reference
// implementation write it (the PHC string format):
//   $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
// with salt and hash in standard base64 without padding. Parsing is strict:
// one spelling per hash, so a parsed string formats back to itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::auth {

struct argon2id_string {
  std::uint32_t memory_kib = 0;  // m
  std::uint32_t passes = 0;      // t
  std::uint32_t lanes = 0;       // p
  std::string salt;              // raw bytes
  std::string hash;              // raw bytes
};

// Limits a stored hash must keep to be checked at all (a broken or hostile
// row must not make a thread allocate gigabytes or loop for minutes).
constexpr std::uint32_t k_argon2_max_memory_kib = 1u << 22;  // 4 GiB
constexpr std::uint32_t k_argon2_max_passes = 1u << 10;
constexpr std::uint32_t k_argon2_max_lanes = 16;
constexpr std::size_t k_argon2_min_salt = 8, k_argon2_max_salt = 64;
constexpr std::size_t k_argon2_min_hash = 16, k_argon2_max_hash = 64;

// nullopt unless `text` is an argon2id, version 19 string within the limits
// above (m at least 8 KiB per lane, t and p at least 1).
std::optional<argon2id_string> parse_argon2id(std::string_view text);

// The string of `h` (which must be within the limits).
std::string format_argon2id(const argon2id_string& h);

}  // namespace reel::auth
