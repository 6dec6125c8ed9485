// An organization's API key as stored: the secret itself never is, only its
// SHA-256 (token_hash) and its first characters (prefix) to tell keys apart.
#pragma once

#include "model/accounts.hpp"

#include <optional>
#include <string>

namespace reel::model {

struct api_key {
  std::string id, organization_id, name;
  model::role role = role::viewer;  // never owner
  std::string prefix, token_hash;
  std::optional<std::string> created_by;    // a user id; null once that user is deleted
  std::optional<std::string> creator_name;  // read with the list only (the user's name now)
  std::string created_at;
  std::optional<std::string> last_used_at;  // written at most once a minute
};

// What a principal authenticated by an API key carries about it.
struct api_key_ref {
  std::string id, name, prefix;
};

}  // namespace reel::model
