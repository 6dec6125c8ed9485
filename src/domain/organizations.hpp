// Organizations and their members. The rules of membership live here
// (joining is invitations.hpp's): admins manage members; only an owner
// makes, unmakes or removes an owner; anyone may leave; and an organization
// always keeps at least one owner.
// Coroutines on the loop thread; the database runs on the pool.
#pragma once

#include "core/clock.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

class accounts;

class organizations {
 public:
  organizations(db::gateway& db, accounts& accounts, const clock& c) : db_(db), accounts_(accounts), clock_(c) {}

  // A new organization that `who` owns.
  boost::asio::awaitable<model::organization> create(const model::principal& who, std::string name);

  // Its members, oldest first (every role may see them).
  boost::asio::awaitable<std::vector<model::member>> members(const model::org_scope& in);

  // (Nobody is added here: people join by accepting an invitation,
  // src/domain/invitations.hpp.)

  // Changes a member's role (admin+; only an owner makes or unmakes an
  // owner; the last owner stays an owner).
  boost::asio::awaitable<model::member> change_role(const model::org_scope& in, const std::string& user_id,
                                                    model::role role);

  // Removes a member: anyone may leave; removing someone else needs admin+,
  // removing an owner needs an owner; the last owner cannot go.
  boost::asio::awaitable<void> remove_member(const model::principal& who, const model::org_scope& in,
                                             const std::string& user_id);

 private:
  db::gateway& db_;
  accounts& accounts_;
  const clock& clock_;
};

}  // namespace reel::domain
