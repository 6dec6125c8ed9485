// Organizations' API keys (docs/api-keys.md): a backend acts in one
// organization with one role (viewer, member or admin; never owner) without
// a person's password. The secret is made here, shown once, and stored
// only as its SHA-256; accounts::authenticate() turns it into a principal.
// Admins and owners signed in manage keys; a key never manages keys
// (permissions: action::manage_api_keys). Revoking takes effect at once, on
// every node (accounts::api_key_revoked, which the cluster fans out).
// Coroutines on the loop thread; the database runs on the pool.
#pragma once

#include "core/clock.hpp"
#include "model/api_keys.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

class accounts;

class api_keys {
 public:
  api_keys(db::gateway& db, accounts& accounts, const clock& c) : db_(db), accounts_(accounts), clock_(c) {}

  struct created {
    model::api_key key;
    std::string secret;  // "reel_sk_…": never stored, never shown again
  };
  // A new key of `in` named `name` (validated by the caller) with `role`.
  // Throws error(forbidden) unless `who` is an admin or owner and no API key,
  // error(bad_request) naming "role" for owner or a role above the caller's.
  boost::asio::awaitable<created> create(const model::principal& who, const model::org_scope& in, std::string name,
                                         model::role role);

  // The organization's keys, oldest first. error(forbidden) as create().
  boost::asio::awaitable<std::vector<model::api_key>> list(const model::org_scope& in);

  // Deletes key `id` of `in`: it authenticates nothing from now on, on any
  // node. error(forbidden) as create(); error(not_found) for an id the
  // organization has no key with.
  boost::asio::awaitable<void> revoke(const model::org_scope& in, const std::string& id);

 private:
  db::gateway& db_;
  accounts& accounts_;
  const clock& clock_;
};

}  // namespace reel::domain
