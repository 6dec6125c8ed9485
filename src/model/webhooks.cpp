#include "model/webhooks.hpp"

namespace reel::model {

std::string_view delivery_status_name(delivery_status s) noexcept {
  switch (s) {
    case delivery_status::pending:
      return "pending";
    case delivery_status::delivered:
      return "delivered";
    case delivery_status::failed:
      return "failed";
  }
  return "pending";
}

std::optional<delivery_status> parse_delivery_status(std::string_view text) noexcept {
  if (text == "pending") return delivery_status::pending;
  if (text == "delivered") return delivery_status::delivered;
  if (text == "failed") return delivery_status::failed;
  return std::nullopt;
}

}  // namespace reel::model
