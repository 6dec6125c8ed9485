#include "core/ids.hpp"

#include <sodium.h>

#include <random>
#include <stdexcept>
#include <vector>

namespace reel::ids {

std::string random_secret(std::size_t bytes) {
  static const int init = sodium_init();
  if (init < 0) throw std::runtime_error("libsodium failed to initialise");
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::string random_id(std::size_t bytes) {
  // An id never begins with "-", so that one pasted into a command line
  // (`reel videos show ID`, `rm ID.mp4`) cannot read as a flag: drawn again
  // in the one case in 64 where it would.
  std::string out;
  do out = random_secret(bytes);
  while (!out.empty() && out.front() == '-');
  return out;
}

std::string fast_id() {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::mt19937_64 engine{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  std::uint64_t a = engine(), b = engine();
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = alphabet[(a >> (6 * i)) & 63];
    out[8 + i] = alphabet[(b >> (6 * i)) & 63];
  }
  return out;
}

bool is_safe_token(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace reel::ids
