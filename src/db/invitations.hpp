// The invitations repository. An invitation is pending while nobody has
// accepted, declined or revoked it and `now` is before its expiry; every
// change of state is one statement that checks it is still pending, so two
// answers at once cannot both win. Each function runs inside the caller's
// transaction.
#pragma once

#include "db/database.hpp"
#include "model/invitations.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

using model::invitation;

// What the organization's unanswered invitation to `email` asks for (it may
// have expired), or nullopt when there is none.
std::optional<model::role> unanswered_invitation_role(transaction& s, const std::string& org_id,
                                                      const std::string& email);

// Creates the invitation, or refreshes the organization's unanswered one to
// the same email, which keeps its id and takes the new role, inviter,
// creation and expiry times (an expired one lives again). Returns the id of
// the invitation that now holds them.
std::string upsert_invitation(transaction& s, const std::string& id, const std::string& org_id,
                              const std::string& email, model::role role, const std::optional<std::string>& invited_by,
                              const std::string& created_at, const std::string& expires_at);

// The invitation `id` of `org_id` when it is pending at `now`.
std::optional<invitation> find_pending_invitation(transaction& s, const std::string& org_id, const std::string& id,
                                                  const std::string& now);

// Pending invitations, oldest first: to `email`, and of `org_id`.
std::vector<invitation> pending_invitations_to(transaction& s, const std::string& email, const std::string& now);
std::vector<invitation> pending_invitations_of(transaction& s, const std::string& org_id, const std::string& now);

// Marks invitation `id` to `email` accepted when it is pending at `now`;
// returns its organization and role, or nullopt (unknown, someone else's,
// expired or answered: all alike).
struct accepted_invitation {
  std::string org_id;
  model::role role;
};
std::optional<accepted_invitation> accept_invitation(transaction& s, const std::string& id, const std::string& email,
                                                     const std::string& now);

// Marks invitation `id` to `email` declined when it is pending at `now`;
// false otherwise.
bool decline_invitation(transaction& s, const std::string& id, const std::string& email, const std::string& now);

// Marks invitation `id` of `org_id` revoked when it is pending at `now`;
// false otherwise.
bool revoke_invitation(transaction& s, const std::string& org_id, const std::string& id, const std::string& now);

// True when a user with `email` is a member of `org_id`.
bool is_member_by_email(transaction& s, const std::string& org_id, const std::string& email);

}  // namespace reel::db
