// Organizations and their members. The rules of membership live here
// (joining is invitations.hpp's): admins manage members; only an owner
// makes, unmakes or removes an owner; anyone may leave; and an organization
// always keeps at least one owner.
// Coroutines on the loop thread; the database runs on the pool.
#pragma once

#include "core/clock.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::db {
class transaction;
}

namespace reel::domain {

class accounts;

// Whether `slug` may be an organization's public address: 3 to 48 lower-case
// letters, digits and '-', starting and ending with a letter or digit.
bool valid_slug(std::string_view slug) noexcept;
// A free address for a new organization named `name`: the name in slug form
// when no organization has it, else with a random suffix.
std::string unused_slug(db::transaction& tx, std::string_view name);
// Whether `origin` is a plain web origin: http(s)://host[:port], no path.
bool valid_origin(std::string_view origin) noexcept;

class organizations {
 public:
  organizations(db::gateway& db, accounts& accounts, const clock& c) : db_(db), accounts_(accounts), clock_(c) {}

  // A new organization that `who` owns.
  boost::asio::awaitable<model::organization> create(const model::principal& who, std::string name);

  // Changes its settings: the name, the embedding origins and the
  // downloads offered (admin+), the public address (owner). Fields left out
  // stay. error(bad_request) for a download_renditions other than "none",
  // "highest" or "all".
  struct settings_change {
    std::optional<std::string> name, slug;
    std::optional<std::vector<std::string>> embed_origins;
    std::optional<std::string> download_renditions;
    std::optional<bool> download_source;
  };
  boost::asio::awaitable<model::organization> update(const model::org_scope& in, const settings_change& change);

  // The organization whose public address is `slug`: error(not_found) when none.
  boost::asio::awaitable<model::organization> by_slug(const std::string& slug);

  // The organizations `who` belongs to as the database has them now (with
  // their storage usage, which the principal's cached copy may not have).
  boost::asio::awaitable<std::vector<model::membership>> of(const model::principal& who);

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
