#include "db/invitations.hpp"

#include "db/columns.hpp"

namespace reel::db {

namespace {

// The invitation with its organization and its inviter's name (both sides' views).
#define REEL_INVITATION_SELECT                                                                          \
  "SELECT i.id, o.id, o.name, o.created_at, i.email, i.role, u.id, u.name, i.created_at, i.expires_at " \
  "FROM invitations i JOIN organizations o ON o.id = i.organization_id "                                \
  "LEFT JOIN users u ON u.id = i.invited_by "
// Unanswered, and pending: unanswered and not expired at the bound `now`.
// (Only invitations has these columns: they need no table name in a join.)
#define REEL_UNANSWERED "accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL"
#define REEL_PENDING REEL_UNANSWERED " AND expires_at > ?"

constexpr const char* k_unanswered_role =
    "SELECT role FROM invitations WHERE organization_id = ? AND email = ? AND " REEL_UNANSWERED;
// The conflict target is the partial unique index invitations_unanswered
// (migrations.cpp), named by its columns and its predicate.
constexpr const char* k_upsert =
    "INSERT INTO invitations (id, organization_id, email, role, invited_by, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organization_id, email) WHERE " REEL_UNANSWERED
    " DO UPDATE SET role = excluded.role, invited_by = excluded.invited_by, created_at = excluded.created_at, "
    "expires_at = excluded.expires_at RETURNING id";
constexpr const char* k_pending_by_id =
    REEL_INVITATION_SELECT "WHERE i.organization_id = ? AND i.id = ? AND " REEL_PENDING;
constexpr const char* k_pending_to =
    REEL_INVITATION_SELECT "WHERE i.email = ? AND " REEL_PENDING " ORDER BY i.created_at, i.id";
constexpr const char* k_pending_of =
    REEL_INVITATION_SELECT "WHERE i.organization_id = ? AND " REEL_PENDING " ORDER BY i.created_at, i.id";
constexpr const char* k_accept = "UPDATE invitations SET accepted_at = ? WHERE id = ? AND email = ? AND " REEL_PENDING
                                 " RETURNING organization_id, role";
constexpr const char* k_decline =
    "UPDATE invitations SET declined_at = ? WHERE id = ? AND email = ? AND " REEL_PENDING " RETURNING id";
constexpr const char* k_revoke =
    "UPDATE invitations SET revoked_at = ? WHERE id = ? AND organization_id = ? AND " REEL_PENDING " RETURNING id";
constexpr const char* k_member_by_email =
    "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = ? AND u.email = ?";

#undef REEL_INVITATION_SELECT
#undef REEL_UNANSWERED
#undef REEL_PENDING

invitation to_invitation(const row& r) {
  return {r.text(0),     {r.text(1), r.text(2), r.text(3)},
          r.text(4),     role_column(r, 5),
          r.opt_text(6), r.opt_text(7),
          r.text(8),     r.text(9)};
}

std::vector<invitation> to_invitations(const std::vector<row>& rows) {
  std::vector<invitation> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(to_invitation(r));
  return out;
}

}  // namespace

std::optional<model::role> unanswered_invitation_role(transaction& s, const std::string& org_id,
                                                      const std::string& email) {
  auto r = s.query_one(k_unanswered_role, {org_id, email});
  if (!r) return std::nullopt;
  return role_column(*r, 0);
}

std::string upsert_invitation(transaction& s, const std::string& id, const std::string& org_id,
                              const std::string& email, model::role role, const std::optional<std::string>& invited_by,
                              const std::string& created_at, const std::string& expires_at) {
  auto r =
      s.query_one(k_upsert, {id, org_id, email, model::role_name(role), value(invited_by), created_at, expires_at});
  if (!r) throw db_error(errc::internal, "the invitation upsert returned no row");
  return r->text(0);
}

std::optional<invitation> find_pending_invitation(transaction& s, const std::string& org_id, const std::string& id,
                                                  const std::string& now) {
  auto r = s.query_one(k_pending_by_id, {org_id, id, now});
  if (!r) return std::nullopt;
  return to_invitation(*r);
}

std::vector<invitation> pending_invitations_to(transaction& s, const std::string& email, const std::string& now) {
  return to_invitations(s.query(k_pending_to, {email, now}));
}

std::vector<invitation> pending_invitations_of(transaction& s, const std::string& org_id, const std::string& now) {
  return to_invitations(s.query(k_pending_of, {org_id, now}));
}

std::optional<accepted_invitation> accept_invitation(transaction& s, const std::string& id, const std::string& email,
                                                     const std::string& now) {
  auto r = s.query_one(k_accept, {now, id, email, now});
  if (!r) return std::nullopt;
  return accepted_invitation{r->text(0), role_column(*r, 1)};
}

bool decline_invitation(transaction& s, const std::string& id, const std::string& email, const std::string& now) {
  return s.query_one(k_decline, {now, id, email, now}).has_value();
}

bool revoke_invitation(transaction& s, const std::string& org_id, const std::string& id, const std::string& now) {
  return s.query_one(k_revoke, {now, id, org_id, now}).has_value();
}

bool is_member_by_email(transaction& s, const std::string& org_id, const std::string& email) {
  return s.query_one(k_member_by_email, {org_id, email}).has_value();
}

}  // namespace reel::db
