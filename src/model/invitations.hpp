// An invitation to join an organization with a role, sent to an email
// address whether or not someone has registered with it. Plain values: the
// database (src/db) stores them, the domain (src/domain) decides what may
// happen to them.
#pragma once

#include "model/accounts.hpp"

#include <optional>
#include <string>

namespace reel::model {

// A pending invitation as both sides see it: the organization it is to, and
// who sent it (null once that user no longer exists).
struct invitation {
  std::string id;
  organization org;
  std::string email;  // trimmed and lower-cased, as users' emails are
  model::role role = role::viewer;
  std::optional<std::string> inviter_id, inviter_name;
  std::string created_at, expires_at;
};

}  // namespace reel::model
