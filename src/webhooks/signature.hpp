// Standard Webhooks signatures (https://www.standardwebhooks.com): the
// secret `whsec_<base64 key>`, and `v1,<base64 HMAC-SHA256(key,
// "<id>.<timestamp>.<body>")>` in the webhook-signature header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::webhooks {

// A new secret: whsec_ and the base64 of 24 random bytes (the OS CSPRNG).
std::string new_secret();

// The key bytes of a `whsec_...` secret; nullopt when it is not one.
std::optional<std::string> secret_key(std::string_view secret);

// The webhook-signature header's value for message `id` sent at `timestamp`
// (Unix seconds) with `body`, signed with `secret` (whsec_...). Throws
// std::invalid_argument for a secret that is not whsec_ and base64.
std::string sign(std::string_view secret, std::string_view id, std::int64_t timestamp, std::string_view body);

}  // namespace reel::webhooks
