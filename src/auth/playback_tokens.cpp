#include "auth/playback_tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <stdexcept>

namespace reel::auth {

namespace {

constexpr std::string_view k_scope = "p";
constexpr std::size_t k_mac_chars = 43;  // 32 bytes in unpadded base64url

std::string message(std::string_view video_id, std::string_view expiry) {
  std::string m;
  m.reserve(32 + video_id.size() + expiry.size());
  m.append("reel-playback-v1\n").append(k_scope).append("\n").append(video_id).append("\n").append(expiry);
  return m;
}

std::string mac_text(std::string_view key, std::string_view video_id, std::string_view expiry) {
  return base64url_encode(hmac_sha256(key, message(video_id, expiry)));
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &n))
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string derive_key(std::string_view secret, std::string_view purpose) { return hmac_sha256(secret, purpose); }

std::string base64url_encode(std::string_view bytes) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = at(i) << 16;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
  }
  return out;
}

playback_signer::playback_signer(std::string_view secret, std::string_view previous)
    : key_(derive_key(secret, "reel playback links")) {
  if (!previous.empty()) previous_key_ = derive_key(previous, "reel playback links");
}

std::string playback_signer::sign(std::string_view video_id, std::int64_t expires_unix) const {
  std::string expiry = std::to_string(expires_unix);
  std::string token;
  token.append(k_scope).append(".").append(expiry).append(".").append(mac_text(key_, video_id, expiry));
  return token;
}

token_check playback_signer::verify(std::string_view token, std::string_view video_id, std::int64_t now_unix) const {
  if (token.size() > k_max_length || !token.starts_with("p.")) return token_check::invalid;
  std::string_view rest = token.substr(2);
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 12) return token_check::invalid;
  std::string_view expiry = rest.substr(0, dot), mac = rest.substr(dot + 1);
  std::int64_t expires = 0;
  auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), expires);
  if (ec != std::errc() || end != expiry.data() + expiry.size() || expires <= 0 || expiry.front() == '0')
    return token_check::invalid;
  if (mac.size() != k_mac_chars) return token_check::invalid;
  bool genuine = same(mac, mac_text(key_, video_id, expiry));
  if (!genuine && !previous_key_.empty()) genuine = same(mac, mac_text(previous_key_, video_id, expiry));
  if (!genuine) return token_check::invalid;
  return expires > now_unix ? token_check::valid : token_check::expired;
}

}  // namespace reel::auth
