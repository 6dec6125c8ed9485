// Repositories of the accounts aggregate: users, organizations, memberships
// and sessions. Each function runs inside the caller's transaction.
#pragma once

#include "db/database.hpp"
#include "model/accounts.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

using model::member;
using model::membership;
using model::organization;
using model::session_record;
using model::user;

// users
// Throws db_error(conflict) when the email is taken.
void insert_user(transaction& s, const user& u);
std::optional<user> find_user_by_email(transaction& s, const std::string& email);
std::optional<user> find_user_by_id(transaction& s, const std::string& id);

// organizations and memberships
void insert_organization(transaction& s, const organization& o);
std::optional<organization> find_organization(transaction& s, const std::string& org_id);
std::optional<organization> find_organization_by_slug(transaction& s, const std::string& slug);
// What update_organization changes: the fields given. A slug another
// organization has throws db_error(conflict) (the unique index).
struct organization_changes {
  std::optional<std::string> name, slug;
  std::optional<std::vector<std::string>> embed_origins;
  std::optional<std::string> download_renditions;
  std::optional<bool> download_source;
};
bool update_organization(transaction& s, const std::string& org_id, const organization_changes& c);

// The installation's secret `name`: the one stored, else `fresh` (stored
// now; of concurrent callers, the first to commit wins and all get its).
std::string server_secret(transaction& s, const std::string& name, const std::string& fresh, const std::string& now);
// Throws db_error(conflict) when the user is a member already.
void insert_membership(transaction& s, const std::string& org_id, const std::string& user_id, model::role role,
                       const std::string& now);
// Oldest membership first.
std::vector<membership> list_memberships(transaction& s, const std::string& user_id);
std::optional<membership> find_membership(transaction& s, const std::string& org_id, const std::string& user_id);
std::vector<member> list_members(transaction& s, const std::string& org_id);
std::optional<member> find_member(transaction& s, const std::string& org_id, const std::string& user_id);
bool delete_membership(transaction& s, const std::string& org_id, const std::string& user_id);
bool set_membership_role(transaction& s, const std::string& org_id, const std::string& user_id, model::role role);
std::int64_t count_owners(transaction& s, const std::string& org_id);
// Holds the organization's row until the transaction ends, so that rules
// that read its memberships and then change them (an organization keeps an
// owner) see no concurrent change. A no-op where write transactions run one
// at a time (SQLite).
void lock_organization(transaction& s, const std::string& org_id);

// sessions
void insert_session(transaction& s, const session_record& r);
// With last_used_at, address and user_agent ("" when not known).
std::optional<session_record> find_session_by_token_hash(transaction& s, const std::string& token_hash);
// The user's sessions that are not revoked, expire after `now` and were last
// used after `idle_before`; most recently used first. Token hashes left empty.
std::vector<session_record> list_live_sessions(transaction& s, const std::string& user_id, const std::string& now,
                                               const std::string& idle_before);
// Revokes session `id` when it is one of the user's live sessions (as
// list_live_sessions says) and returns its token hash; nullopt otherwise.
std::optional<std::string> revoke_live_session_of_user(transaction& s, const std::string& id,
                                                       const std::string& user_id, const std::string& now,
                                                       const std::string& idle_before);
// Records that session `id` was used at `now`, unless it is revoked or its
// recorded use is later than `recorded_before`; true when it wrote.
bool record_session_use(transaction& s, const std::string& id, const std::string& now,
                        const std::string& recorded_before);
// Marks the session revoked; false when it was unknown or revoked already.
bool revoke_session(transaction& s, const std::string& id, const std::string& now);
// Revokes every live session of the user but `except` (a session id, or ""
// for none); returns the ids revoked (one statement: none slips between).
std::vector<std::string> revoke_sessions_of_user(transaction& s, const std::string& user_id, const std::string& now,
                                                 const std::string& except);
// Stores a new password hash; false for an unknown user.
bool set_password_hash(transaction& s, const std::string& user_id, const std::string& hash);
// The same, only while the stored hash is still `was` (a rehash at a new
// cost must not undo a password change made meanwhile).
bool replace_password_hash(transaction& s, const std::string& user_id, const std::string& was, const std::string& hash);
// Removes sessions that expired or were revoked before `before`, or were
// last used at or before `idle_before`.
std::int64_t delete_stale_sessions(transaction& s, const std::string& before, const std::string& idle_before);

}  // namespace reel::db
