// Stored argon2id hashes (src/auth/argon2_string.hpp): any text. Invariants:
// what parses is within the limits and formats back to the very same text
// (one spelling per hash); what the formatter writes parses to the same
// fields.
#include "auth/argon2_string.hpp"
#include "fuzz.hpp"

#include <string>

using namespace reel::auth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto h = parse_argon2id(text);
  if (!h) return 0;
  FUZZ_CHECK(h->memory_kib >= 8 * h->lanes && h->memory_kib <= k_argon2_max_memory_kib);
  FUZZ_CHECK(h->passes >= 1 && h->passes <= k_argon2_max_passes);
  FUZZ_CHECK(h->lanes >= 1 && h->lanes <= k_argon2_max_lanes);
  FUZZ_CHECK(h->salt.size() >= k_argon2_min_salt && h->salt.size() <= k_argon2_max_salt);
  FUZZ_CHECK(h->hash.size() >= k_argon2_min_hash && h->hash.size() <= k_argon2_max_hash);
  const std::string again = format_argon2id(*h);
  FUZZ_CHECK(again == text);
  auto back = parse_argon2id(again);
  FUZZ_CHECK(back && back->salt == h->salt && back->hash == h->hash && back->memory_kib == h->memory_kib);
  return 0;
}
