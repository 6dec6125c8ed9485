#include "db/accounts.hpp"

#include "core/clock.hpp"
#include "db/columns.hpp"
#include "db/webhooks.hpp"

namespace reel::db {

namespace {

constexpr const char* k_insert_user =
    "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* k_user_by_email = "SELECT id, email, name, password_hash, created_at FROM users WHERE email = ?";
constexpr const char* k_user_by_id = "SELECT id, email, name, password_hash, created_at FROM users WHERE id = ?";

constexpr const char* k_insert_org =
    "INSERT INTO organizations (id, name, created_at, slug, embed_origins, storage_quota_bytes, download_renditions, "
    "download_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
#define REEL_ORG_COLUMNS                                                                               \
  "o.id, o.name, o.created_at, o.slug, o.embed_origins, o.storage_used_bytes, o.storage_quota_bytes, " \
  "o.download_renditions, o.download_source"
constexpr const char* k_org_by_id = "SELECT " REEL_ORG_COLUMNS " FROM organizations o WHERE o.id = ?";
constexpr const char* k_org_by_slug = "SELECT " REEL_ORG_COLUMNS " FROM organizations o WHERE o.slug = ?";
constexpr const char* k_update_org =
    "UPDATE organizations SET name = COALESCE(?, name), slug = COALESCE(?, slug), "
    "embed_origins = COALESCE(?, embed_origins), download_renditions = COALESCE(?, download_renditions), "
    "download_source = COALESCE(?, download_source) WHERE id = ?";
constexpr const char* k_insert_membership =
    "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?)";
// Oldest first; memberships made in the same millisecond in the order they
// were made: m.rowid is SQLite's implicit rowid, and on PostgreSQL an
// identity column of that name (migrations.cpp). Not the ids: they are random.
constexpr const char* k_memberships_of_user =
    "SELECT " REEL_ORG_COLUMNS
    ", m.role, m.created_at FROM memberships m "
    "JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = ? ORDER BY m.created_at, m.rowid";
constexpr const char* k_membership =
    "SELECT " REEL_ORG_COLUMNS
    ", m.role, m.created_at FROM memberships m "
    "JOIN organizations o ON o.id = m.organization_id WHERE m.organization_id = ? AND m.user_id = ?";
#undef REEL_ORG_COLUMNS
constexpr const char* k_members_of_org =
    "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.organization_id = ? ORDER BY m.created_at, m.rowid";
constexpr const char* k_member =
    "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id "
    "WHERE m.organization_id = ? AND m.user_id = ?";
constexpr const char* k_delete_membership = "DELETE FROM memberships WHERE organization_id = ? AND user_id = ?";
constexpr const char* k_set_role = "UPDATE memberships SET role = ? WHERE organization_id = ? AND user_id = ?";
constexpr const char* k_count_owners = "SELECT COUNT(*) FROM memberships WHERE organization_id = ? AND role = 'owner'";

constexpr const char* k_insert_session =
    "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, last_used_at, address, user_agent) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
// The columns to_session reads, in its order (a session written before
// migration 4 was last used when it was made, as far as anyone knows).
#define REEL_SESSION_COLUMNS                                                                                   \
  "id, user_id, token_hash, created_at, expires_at, revoked_at, COALESCE(last_used_at, created_at), address, " \
  "user_agent"
constexpr const char* k_session_by_hash = "SELECT " REEL_SESSION_COLUMNS " FROM sessions WHERE token_hash = ?";
// Live: neither revoked, nor expired, nor idle. Most recently used first.
constexpr const char* k_live_sessions_of_user =
    "SELECT " REEL_SESSION_COLUMNS
    " FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND "
    "COALESCE(last_used_at, created_at) > ? ORDER BY COALESCE(last_used_at, created_at) DESC, created_at DESC, id";
#undef REEL_SESSION_COLUMNS
constexpr const char* k_revoke_live_session_of_user =
    "UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ? AND "
    "COALESCE(last_used_at, created_at) > ? RETURNING token_hash";
constexpr const char* k_record_session_use =
    "UPDATE sessions SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL AND "
    "(last_used_at IS NULL OR last_used_at <= ?)";
constexpr const char* k_revoke_session = "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL";
constexpr const char* k_revoke_sessions_of_user =
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id <> ? RETURNING id";
constexpr const char* k_set_password_hash = "UPDATE users SET password_hash = ? WHERE id = ?";
constexpr const char* k_replace_password_hash = "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?";
constexpr const char* k_delete_stale_sessions =
    "DELETE FROM sessions WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?) OR "
    "COALESCE(last_used_at, created_at) <= ?";

user to_user(const row& r) { return {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4)}; }
// Origins are stored separated by spaces.
std::vector<std::string> split_origins(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = text.find(' ', i);
    if (end == std::string::npos) end = text.size();
    if (end > i) out.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return out;
}
std::string join_origins(const std::vector<std::string>& origins) {
  std::string out;
  for (const auto& o : origins) out += (out.empty() ? "" : " ") + o;
  return out;
}
organization to_organization(const row& r) {
  return {r.text(0),  r.text(1), r.text(2),      r.opt_text(3).value_or(""), split_origins(r.text(4)), r.opt_int64(6),
          r.int64(5), r.text(7), r.int64(8) != 0};
}
membership to_membership(const row& r) { return {to_organization(r), role_column(r, 9), r.text(10)}; }
member to_member(const row& r) { return {r.text(0), r.text(1), r.text(2), role_column(r, 3), r.text(4)}; }
session_record to_session(const row& r) {
  return {r.text(0),
          r.text(1),
          r.text(2),
          r.text(3),
          r.text(4),
          r.opt_text(5),
          r.text(6),
          r.opt_text(7).value_or(""),
          r.opt_text(8).value_or("")};
}

}  // namespace

void insert_user(transaction& s, const user& u) {
  s.exec(k_insert_user, {u.id, u.email, u.name, u.password_hash, u.created_at});
}

std::optional<user> find_user_by_email(transaction& s, const std::string& email) {
  auto r = s.query_one(k_user_by_email, {email});
  if (!r) return std::nullopt;
  return to_user(*r);
}

std::optional<user> find_user_by_id(transaction& s, const std::string& id) {
  auto r = s.query_one(k_user_by_id, {id});
  if (!r) return std::nullopt;
  return to_user(*r);
}

void insert_organization(transaction& s, const organization& o) {
  // No slug yet (NULL: unique only among those that have one).
  std::optional<std::string> slug;
  if (!o.slug.empty()) slug = o.slug;
  s.exec(k_insert_org, {o.id, o.name, o.created_at, slug, join_origins(o.embed_origins), o.storage_quota_bytes,
                        o.download_renditions, o.download_source});
}

std::string server_secret(transaction& s, const std::string& name, const std::string& fresh, const std::string& now) {
  s.exec("INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
         {name, fresh, now});
  return s.query_one("SELECT value FROM server_secrets WHERE name = ?", {name})->text(0);
}

std::optional<organization> find_organization(transaction& s, const std::string& org_id) {
  auto r = s.query_one(k_org_by_id, {org_id});
  if (!r) return std::nullopt;
  return to_organization(*r);
}

std::optional<organization> find_organization_by_slug(transaction& s, const std::string& slug) {
  auto r = s.query_one(k_org_by_slug, {slug});
  if (!r) return std::nullopt;
  return to_organization(*r);
}

bool update_organization(transaction& s, const std::string& org_id, const organization_changes& c) {
  std::optional<std::string> origins;
  if (c.embed_origins) origins = join_origins(*c.embed_origins);
  std::optional<std::int64_t> source;
  if (c.download_source) source = *c.download_source ? 1 : 0;
  return s.exec(k_update_org, {c.name, c.slug, origins, c.download_renditions, source, org_id}) > 0;
}

void insert_membership(transaction& s, const std::string& org_id, const std::string& user_id, model::role role,
                       const std::string& now) {
  s.exec(k_insert_membership, {org_id, user_id, model::role_name(role), now});
  record_member_event(s, org_id, user_id, role, "member.added", now);
}

std::vector<membership> list_memberships(transaction& s, const std::string& user_id) {
  std::vector<membership> out;
  for (const auto& r : s.query(k_memberships_of_user, {user_id})) out.push_back(to_membership(r));
  return out;
}

std::optional<membership> find_membership(transaction& s, const std::string& org_id, const std::string& user_id) {
  auto r = s.query_one(k_membership, {org_id, user_id});
  if (!r) return std::nullopt;
  return to_membership(*r);
}

std::vector<member> list_members(transaction& s, const std::string& org_id) {
  std::vector<member> out;
  for (const auto& r : s.query(k_members_of_org, {org_id})) out.push_back(to_member(r));
  return out;
}

std::optional<member> find_member(transaction& s, const std::string& org_id, const std::string& user_id) {
  auto r = s.query_one(k_member, {org_id, user_id});
  if (!r) return std::nullopt;
  return to_member(*r);
}

bool delete_membership(transaction& s, const std::string& org_id, const std::string& user_id) {
  auto gone = find_membership(s, org_id, user_id);  // its role, for the webhook
  if (s.exec(k_delete_membership, {org_id, user_id}) == 0) return false;
  std::optional<model::role> role;
  if (gone) role = gone->role;
  record_member_event(s, org_id, user_id, role, "member.removed", to_iso8601(std::chrono::system_clock::now()));
  return true;
}

bool set_membership_role(transaction& s, const std::string& org_id, const std::string& user_id, model::role role) {
  return s.exec(k_set_role, {model::role_name(role), org_id, user_id}) > 0;
}

void lock_organization(transaction& s, const std::string& org_id) {
  if (s.locks_rows()) s.query("SELECT id FROM organizations WHERE id = ? FOR UPDATE", {org_id});
}

std::int64_t count_owners(transaction& s, const std::string& org_id) {
  return s.query_one(k_count_owners, {org_id})->int64(0);
}

void insert_session(transaction& s, const session_record& r) {
  const std::string& last_used = r.last_used_at.empty() ? r.created_at : r.last_used_at;
  s.exec(k_insert_session,
         {r.id, r.user_id, r.token_hash, r.created_at, r.expires_at, last_used, r.address, r.user_agent});
}

std::optional<session_record> find_session_by_token_hash(transaction& s, const std::string& token_hash) {
  auto r = s.query_one(k_session_by_hash, {token_hash});
  if (!r) return std::nullopt;
  return to_session(*r);
}

std::vector<session_record> list_live_sessions(transaction& s, const std::string& user_id, const std::string& now,
                                               const std::string& idle_before) {
  std::vector<session_record> out;
  for (const auto& r : s.query(k_live_sessions_of_user, {user_id, now, idle_before})) {
    out.push_back(to_session(r));
    out.back().token_hash.clear();
  }
  return out;
}

std::optional<std::string> revoke_live_session_of_user(transaction& s, const std::string& id,
                                                       const std::string& user_id, const std::string& now,
                                                       const std::string& idle_before) {
  auto r = s.query_one(k_revoke_live_session_of_user, {now, id, user_id, now, idle_before});
  if (!r) return std::nullopt;
  return r->text(0);
}

bool record_session_use(transaction& s, const std::string& id, const std::string& now,
                        const std::string& recorded_before) {
  return s.exec(k_record_session_use, {now, id, recorded_before}) > 0;
}

bool revoke_session(transaction& s, const std::string& id, const std::string& now) {
  return s.exec(k_revoke_session, {now, id}) > 0;
}

std::vector<std::string> revoke_sessions_of_user(transaction& s, const std::string& user_id, const std::string& now,
                                                 const std::string& except) {
  std::vector<std::string> ids;
  for (const auto& r : s.query(k_revoke_sessions_of_user, {now, user_id, except})) ids.push_back(r.text(0));
  return ids;
}

bool set_password_hash(transaction& s, const std::string& user_id, const std::string& hash) {
  return s.exec(k_set_password_hash, {hash, user_id}) > 0;
}

bool replace_password_hash(transaction& s, const std::string& user_id, const std::string& was,
                           const std::string& hash) {
  return s.exec(k_replace_password_hash, {hash, user_id, was}) > 0;
}

std::int64_t delete_stale_sessions(transaction& s, const std::string& before, const std::string& idle_before) {
  return s.exec(k_delete_stale_sessions, {before, before, idle_before});
}

}  // namespace reel::db
