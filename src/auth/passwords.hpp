// Password hashing with argon2id (the reference implementation, libargon2,
// with the strings libsodium writes: hashes made by either verify with the
// other). Both calls take tens of milliseconds by design: run them on the
// thread pool, never on the loop. Each thread that hashes keeps its working
// memory (64 MiB at the default cost) for the next hash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace reel::auth {

struct password_cost {
  // t=3, m=64 MiB: about 75 ms per hash on the 2-core reference machine
  // (measured with libsodium 1.0.18), within the 50–100 ms target.
  // REEL_PASSWORD_HASH_PASSES and REEL_PASSWORD_HASH_MEMORY_MIB change it.
  unsigned long long opslimit = 3;
  std::size_t memlimit = std::size_t(64) << 20;
};

constexpr std::size_t k_min_password_length = 8;
constexpr std::size_t k_max_password_length = 1024;

// The encoded hash ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"). Blocking.
std::string hash_password(std::string_view password, const password_cost& cost = {});

// True when `password` matches `encoded`. Blocking; constant-time compare.
bool verify_password(const std::string& encoded, std::string_view password);

// True when `encoded` was not hashed at `cost` (another memory, passes or
// lanes, or not an argon2id string): its owner's next login hashes again.
bool hashed_at_other_cost(const std::string& encoded, const password_cost& cost);

}  // namespace reel::auth
