#include "webhooks/signature.hpp"

#include "auth/playback_tokens.hpp"
#include "core/digest.hpp"

#include <sodium.h>

#include <stdexcept>

namespace reel::webhooks {

namespace {
constexpr std::string_view k_prefix = "whsec_";
}

std::string new_secret() {
  std::string bytes(24, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return std::string(k_prefix) + base64_encode(bytes);
}

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with(k_prefix)) return std::nullopt;
  auto key = base64_decode(secret.substr(k_prefix.size()));
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string sign(std::string_view secret, std::string_view id, std::int64_t timestamp, std::string_view body) {
  auto key = secret_key(secret);
  if (!key) throw std::invalid_argument("a webhook secret is whsec_ followed by base64");
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return "v1," + base64_encode(auth::hmac_sha256(*key, content));
}

}  // namespace reel::webhooks
