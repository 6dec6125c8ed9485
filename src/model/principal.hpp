// Who is acting: an authenticated user with the session they acted through
// and their memberships (what they may do where); or an organization's API
// key, which is no person: its `user` is empty (id ""), `api_key` says which
// key it is, and its one membership is its organization with the key's role.
#pragma once

#include "core/clock.hpp"
#include "model/accounts.hpp"
#include "model/api_keys.hpp"

#include <optional>

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
  std::optional<api_key_ref> api_key;   // set when an API key authenticated the request

  // The user to record as the author of what this principal makes; null
  // for an API key.
  std::optional<std::string> person_id() const {
    if (api_key) return std::nullopt;
    return user.id;
  }

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
  bool by_api_key = false;  // the caller is an API key (which never manages keys)
};

}  // namespace reel::model
