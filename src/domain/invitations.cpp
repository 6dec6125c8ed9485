#include "domain/invitations.hpp"

#include "core/async.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "db/invitations.hpp"
#include "domain/accounts.hpp"
#include "domain/permissions.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

constexpr const char* k_no_such_invitation =
    "No such invitation: it may have expired, been revoked or been answered already.";

// What an invitation may not do, decided inside its transaction.
enum class refusal { none, member_already, owner_needed };

const char* article(model::role r) { return r == model::role::admin || r == model::role::owner ? "an" : "a"; }

// Names come validated (no control characters); a header line stays one line whatever happens.
std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, ' ');
  return s;
}

}  // namespace

asio::awaitable<model::invitation> invitations::invite(const model::principal& who, const model::org_scope& in,
                                                       const std::string& email, model::role role) {
  require(in, action::manage_members);
  bool by_owner = in.role == model::role::owner;
  if (role == model::role::owner && !by_owner) throw error(errc::forbidden, "Only an owner can invite an owner.");
  sys_time now = clock_.now();
  std::string created = to_iso8601(now), expires = to_iso8601(now + settings_.ttl), fresh_id = ids::random_id(12);
  const std::string& org_id = in.id;
  const std::optional<std::string> inviter = who.person_id();
  std::optional<model::invitation> invited;
  // The same statements run whether or not `email` has an account: the
  // answer and its timing tell nothing about it.
  auto refused = co_await db_.write([&](db::transaction& tx) {
    if (db::is_member_by_email(tx, org_id, email)) return refusal::member_already;
    if (db::unanswered_invitation_role(tx, org_id, email) == model::role::owner && !by_owner)
      return refusal::owner_needed;
    std::string id = db::upsert_invitation(tx, fresh_id, org_id, email, role, inviter, created, expires);
    invited = db::find_pending_invitation(tx, org_id, id, created);
    return refusal::none;
  });
  if (refused == refusal::member_already)
    throw error(errc::conflict, "That person is a member of this organization already.");
  if (refused == refusal::owner_needed)
    throw error(errc::forbidden, "Only an owner can change the invitation of an owner.");
  if (!invited) throw error(errc::internal, "The invitation could not be read back.");
  if (mailer_) {
    auto executor = co_await asio::this_coro::executor;
    mail_message m = invitation_mail(*invited);
    asio::co_spawn(executor, mailer_->send(std::move(m)), log_failure("sending an invitation email"));
  }
  co_return std::move(*invited);
}

mail_message invitations::invitation_mail(const model::invitation& inv) const {
  std::string inviter = inv.inviter_name.value_or("Someone");
  std::string role(model::role_name(inv.role));
  mail_message m;
  m.to = inv.email;
  m.subject = one_line(inviter + " invited you to " + inv.org.name + " on reel");
  m.text = inviter + " invited you to join " + inv.org.name + " on reel as " + article(inv.role) + " " + role +
           ".\n\nTo accept or decline, sign in (or register with this email address) and open:\n" +
           settings_.public_url + "/#/invitations\n\nThe invitation expires at " + inv.expires_at +
           ". If you did not expect it, you can ignore this email.\n";
  return m;
}

asio::awaitable<std::vector<model::invitation>> invitations::pending_for(const model::principal& who) {
  std::string now = to_iso8601(clock_.now());
  const std::string& email = who.user.email;
  co_return co_await db_.read([&](db::transaction& tx) { return db::pending_invitations_to(tx, email, now); });
}

asio::awaitable<std::vector<model::invitation>> invitations::pending_of(const model::org_scope& in) {
  require(in, action::manage_members);
  std::string now = to_iso8601(clock_.now());
  const std::string& org_id = in.id;
  co_return co_await db_.read([&](db::transaction& tx) { return db::pending_invitations_of(tx, org_id, now); });
}

asio::awaitable<model::membership> invitations::accept(const model::principal& who, const std::string& id) {
  std::string now = to_iso8601(clock_.now());
  const std::string& email = who.user.email;
  const std::string& user_id = who.user.id;
  auto joined = co_await db_.write([&](db::transaction& tx) -> std::optional<model::membership> {
    auto accepted = db::accept_invitation(tx, id, email, now);
    if (!accepted) return std::nullopt;
    // A member already (invited twice, by two organizations' admins at
    // once...) stays as they are: the invitation is only marked accepted.
    if (!db::find_membership(tx, accepted->org_id, user_id))
      db::insert_membership(tx, accepted->org_id, user_id, accepted->role, now);
    return db::find_membership(tx, accepted->org_id, user_id);
  });
  if (!joined) throw error(errc::not_found, k_no_such_invitation);
  accounts_.memberships_changed();  // this node's caches and every other node's
  co_return std::move(*joined);
}

asio::awaitable<void> invitations::decline(const model::principal& who, const std::string& id) {
  std::string now = to_iso8601(clock_.now());
  const std::string& email = who.user.email;
  bool declined = co_await db_.write([&](db::transaction& tx) { return db::decline_invitation(tx, id, email, now); });
  if (!declined) throw error(errc::not_found, k_no_such_invitation);
}

asio::awaitable<void> invitations::revoke(const model::org_scope& in, const std::string& id) {
  require(in, action::manage_members);
  std::string now = to_iso8601(clock_.now());
  const std::string& org_id = in.id;
  bool by_owner = in.role == model::role::owner;
  auto outcome = co_await db_.write([&](db::transaction& tx) -> std::optional<refusal> {
    auto pending = db::find_pending_invitation(tx, org_id, id, now);
    if (!pending) return std::nullopt;
    if (pending->role == model::role::owner && !by_owner) return refusal::owner_needed;
    // Answered or revoked since the read above (PostgreSQL runs writes side by side): as if never found.
    if (!db::revoke_invitation(tx, org_id, id, now)) return std::nullopt;
    return refusal::none;
  });
  if (!outcome) throw error(errc::not_found, k_no_such_invitation);
  if (*outcome == refusal::owner_needed)
    throw error(errc::forbidden, "Only an owner can revoke an owner's invitation.");
}

}  // namespace reel::domain
