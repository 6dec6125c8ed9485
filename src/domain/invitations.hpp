// Invitations: how someone joins an organization. An admin or owner invites
// an email address with a role; the person with that email (registered now
// or later) sees the invitation, and accepts or declines it. Nothing an
// inviter sees depends on whether the address has an account, so invitations
// cannot be used to find out who is registered, and nobody becomes a member
// without saying yes. The permission rules are adding a member's: admin+,
// and only an owner invites (or revokes the invitation of) an owner.
// Coroutines on the loop thread; the database runs on the pool.
#pragma once

#include "core/clock.hpp"
#include "domain/mailer.hpp"
#include "model/invitations.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

class accounts;

struct invitation_settings {
  // How long an invitation may be answered.
  std::chrono::seconds ttl{7 * 24 * 3600};
  // Where people reach this service: the email links to the web UI's
  // inbox, <public_url>/#/invitations.
  std::string public_url = "http://localhost:8080";
};

class invitations {
 public:
  invitations(db::gateway& db, accounts& accounts, const clock& c, invitation_settings settings = {})
      : db_(db), accounts_(accounts), clock_(c), settings_(std::move(settings)) {}

  // Sends invitation emails through `m` (null: none are sent, and the
  // invitee finds the invitation in the web UI); `m` must outlive this object.
  void use_mailer(mailer* m) { mailer_ = m; }
  // The address links point at, once the server knows its port.
  void set_public_url(std::string url) { settings_.public_url = std::move(url); }

  // Invites `email` (validated and normalized by the caller) to `in` with
  // `role`, by `who`; inviting an address again refreshes its unanswered
  // invitation (role, inviter, expiry). error(forbidden) below admin or when
  // an admin invites an owner or changes an owner's invitation;
  // error(conflict) when a user with that email is a member already. With a
  // mailer, the email is sent in the background: its failure is logged and
  // changes nothing here.
  boost::asio::awaitable<model::invitation> invite(const model::principal& who, const model::org_scope& in,
                                                   const std::string& email, model::role role);

  // The pending invitations to `who`'s email, oldest first.
  boost::asio::awaitable<std::vector<model::invitation>> pending_for(const model::principal& who);

  // The organization's pending invitations, oldest first (admin+, else
  // error(forbidden)).
  boost::asio::awaitable<std::vector<model::invitation>> pending_of(const model::org_scope& in);

  // Makes `who` a member with the invitation's role (or leaves a member as
  // they are) and returns the organization as they now see it.
  // error(not_found), alike, for an id that is unknown, someone else's,
  // expired, revoked or answered already.
  boost::asio::awaitable<model::membership> accept(const model::principal& who, const std::string& id);

  // Declines the invitation; error(not_found) as accept().
  boost::asio::awaitable<void> decline(const model::principal& who, const std::string& id);

  // Revokes a pending invitation of `in` (admin+; only an owner revokes an
  // owner's invitation: error(forbidden)); error(not_found) for an id that
  // is not pending in this organization.
  boost::asio::awaitable<void> revoke(const model::org_scope& in, const std::string& id);

  // The email an invitation sends (its subject names the inviter and the
  // organization).
  mail_message invitation_mail(const model::invitation& inv) const;

 private:
  db::gateway& db_;
  accounts& accounts_;
  const clock& clock_;
  invitation_settings settings_;
  mailer* mailer_ = nullptr;
};

}  // namespace reel::domain
