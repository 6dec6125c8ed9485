// Who is acting: an authenticated user with the session they acted through
// and their memberships (what they may do where).
#pragma once

#include "core/clock.hpp"
#include "model/accounts.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace reel::model {

struct principal {
  model::user user;  // password_hash cleared
  std::string session_id;
  std::string token_hash;
  sys_time expires_at;
  std::vector<membership> memberships;  // oldest first

  // The caller's membership of `org_id`, or null.
  const membership* membership_in(std::string_view org_id) const {
    for (const auto& m : memberships)
      if (m.org.id == org_id) return &m;
    return nullptr;
  }
};

// The organization a request acts in, with the caller's role there.
struct org_scope {
  std::string id;
  std::string name;
  model::role role = role::viewer;
};

}  // namespace reel::model
