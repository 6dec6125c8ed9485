#include "auth/argon2_string.hpp"

#include <sodium.h>

#include <charconv>

namespace reel::auth {

namespace {

constexpr int k_base64 = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;

// Consumes `prefix` from `in`; false if `in` does not start with it.
bool take(std::string_view& in, std::string_view prefix) {
  if (!in.starts_with(prefix)) return false;
  in.remove_prefix(prefix.size());
  return true;
}

// A decimal without sign or leading zero, in [1, max].
std::optional<std::uint32_t> take_number(std::string_view& in, std::uint32_t max) {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + in.size(), v);
  std::size_t used = static_cast<std::size_t>(end - in.data());
  if (ec != std::errc() || used == 0 || in.front() == '0' || v < 1 || v > max) return std::nullopt;
  in.remove_prefix(used);
  return v;
}

// Base64 (standard alphabet, no padding) of `min`..`max` bytes: the whole of `text`.
std::optional<std::string> decode(std::string_view text, std::size_t min, std::size_t max) {
  std::string out(max, '\0');
  std::size_t n = 0;
  const char* end = nullptr;
  if (text.empty() || sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                                        text.size(), nullptr, &n, &end, k_base64) != 0)
    return std::nullopt;
  if (end != text.data() + text.size() || n < min) return std::nullopt;
  out.resize(n);
  return out;
}

std::string encode(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), k_base64), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    k_base64);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

std::optional<argon2id_string> parse_argon2id(std::string_view in) {
  argon2id_string h;
  if (!take(in, "$argon2id$v=19$m=")) return std::nullopt;
  auto m = take_number(in, k_argon2_max_memory_kib);
  if (!m || !take(in, ",t=")) return std::nullopt;
  auto t = take_number(in, k_argon2_max_passes);
  if (!t || !take(in, ",p=")) return std::nullopt;
  auto p = take_number(in, k_argon2_max_lanes);
  if (!p || !take(in, "$") || *m < 8 * *p) return std::nullopt;
  auto dollar = in.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = decode(in.substr(0, dollar), k_argon2_min_salt, k_argon2_max_salt);
  auto hash = decode(in.substr(dollar + 1), k_argon2_min_hash, k_argon2_max_hash);
  if (!salt || !hash) return std::nullopt;
  h.memory_kib = *m;
  h.passes = *t;
  h.lanes = *p;
  h.salt = std::move(*salt);
  h.hash = std::move(*hash);
  return h;
}

std::string format_argon2id(const argon2id_string& h) {
  return "$argon2id$v=19$m=" + std::to_string(h.memory_kib) + ",t=" + std::to_string(h.passes) +
         ",p=" + std::to_string(h.lanes) + "$" + encode(h.salt) + "$" + encode(h.hash);
}

}  // namespace reel::auth
