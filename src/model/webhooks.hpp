// Webhook endpoints, the messages of the outbox and their deliveries
// (docs/api-webhooks.md). Plain values: the database (src/db/webhooks)
// stores them, the domain (src/domain/webhooks) decides what may happen to
// them, the sender (src/webhooks/sender) delivers them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::model {

// The event types an endpoint may subscribe to.
inline const std::vector<std::string>& webhook_event_types() {
  static const std::vector<std::string> all = {"video.created",  "video.uploaded", "video.processing",
                                               "video.playable", "video.ready",    "video.failed",
                                               "video.deleted",  "member.added",   "member.removed"};
  return all;
}

struct webhook_endpoint {
  std::string id;  // whk_...
  std::string organization_id;
  std::string url;
  std::vector<std::string> events;
  bool enabled = true;
  std::string secret;  // whsec_<base64 of the key bytes>
  std::optional<std::string> disabled_reason, disabled_at, failing_since;
  std::string created_at, updated_at;
};

enum class delivery_status { pending, delivered, failed };
std::string_view delivery_status_name(delivery_status s) noexcept;
std::optional<delivery_status> parse_delivery_status(std::string_view text) noexcept;

// One message to one endpoint, with what its last attempt saw.
struct webhook_delivery {
  std::string id;          // dlv_...
  std::string message_id;  // msg_...: the webhook-id header
  std::string endpoint_id;
  std::string organization_id;
  std::string event_type;
  std::string payload;  // the JSON body sent
  delivery_status status = delivery_status::pending;
  std::int64_t attempts = 0;
  std::string next_attempt_at;
  std::optional<std::string> last_attempt_at;
  std::optional<std::int64_t> response_code, latency_ms;
  std::optional<std::string> response_body, error;
  std::string created_at, updated_at;
};

}  // namespace reel::model
