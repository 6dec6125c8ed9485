// Accounts and sessions: registration, login, logout, and who a token
// belongs to (cached briefly, invalidated at once by logout and membership
// changes). Coroutines on the loop thread; hashing and the database run on the pool.
#pragma once

#include "auth/passwords.hpp"
#include "auth/throttle.hpp"
#include "core/clock.hpp"
#include "domain/coordination.hpp"
#include "domain/password_hasher.hpp"
#include "model/principal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel::db {
class gateway;
class transaction;
}  // namespace reel::db

namespace reel::domain {

using auth::password_cost;
using auth::throttle_limits;
using model::principal;

struct account_settings {
  std::chrono::seconds session_ttl{30 * 24 * 3600};
  // A session unused this long ends (besides session_ttl after its start).
  std::chrono::seconds session_idle{14 * 24 * 3600};
  password_cost cost;
  throttle_limits throttle;
  // How long an authenticated token is trusted without asking the database.
  // Logout and membership changes in this process invalidate at once.
  std::chrono::seconds cache_ttl{60};
  std::size_t cache_capacity = 100'000;
  // Password hashing's own threads and queue (domain::password_hasher).
  unsigned hash_threads = 2;
  unsigned hash_queue = 64;
  std::string password_dictionary;  // empty: cracklib's default
  // The storage quota of organizations made from now on (nullopt: none).
  std::optional<std::int64_t> default_storage_quota;
  // Registrations per client address and in all, per hour (0: no limit).
  unsigned registrations_per_address_hour = 20;
  unsigned registrations_per_hour = 1000;
};

// Where a session is opened from, as the client says: shown in its list of
// sessions. The address is the client's (behind trusted proxies, the
// forwarded one); the user agent is cleaned by the caller (api::clean_user_agent).
struct session_origin {
  std::string address, user_agent;
};

// A session as its user sees it in the list of their sessions.
struct session_view {
  std::string id;
  sys_time created_at, last_used_at, expires_at;
  std::string address, user_agent;  // "" when not known
  bool current = false;             // the one the request came through
};

class accounts {
 public:
  accounts(db::gateway& db, const clock& c, account_settings settings = {});

  struct registration {
    model::user user;
    model::organization org;
    std::string token;
    sys_time expires_at;
  };
  // Creates the user, their organization (they own it) and a session opened
  // from `origin`. Throws error(too_many_requests) with Retry-After past the
  // hourly registration limits (per origin.address and in all; the attempt
  // counts whatever follows), error(conflict) when the email is taken,
  // error(bad_request) when the password policy refuses the password.
  // Inputs' shapes validated by the caller.
  boost::asio::awaitable<registration> register_account(const std::string& email, const std::string& password,
                                                        const std::string& name, const std::string& org_name,
                                                        const session_origin& origin);

  struct login_result {
    model::user user;
    std::vector<model::membership> memberships;
    std::string token;
    sys_time expires_at;
  };
  // Throws error(unauthorized) alike, in status, message and time, for an
  // unknown email and a wrong password; error(too_many_requests) with
  // Retry-After when the email or address has failed too often. The new
  // session is opened from `origin`, whose address the throttling counts.
  boost::asio::awaitable<login_result> login(const std::string& email, const std::string& password,
                                             const session_origin& origin);

  // Revokes the session everywhere.
  boost::asio::awaitable<void> logout(const principal& p);

  // Changes `p`'s password once `current` is verified (error(forbidden)
  // otherwise, throttled as logins are) and revokes every other session of
  // the user. The new password is validated by the caller.
  boost::asio::awaitable<void> change_password(const principal& p, const std::string& current, const std::string& next,
                                               const std::string& address);

  // Revokes every session of `p`'s user, `p`'s own included.
  boost::asio::awaitable<void> logout_all(const principal& p);

  // The live sessions of `p`'s user (not revoked, expired or idle), most
  // recently used first; `p`'s own is marked current.
  boost::asio::awaitable<std::vector<session_view>> sessions(const principal& p);

  // Revokes session `id` of `p`'s user everywhere (on_logout, as logout).
  // Throws error(not_found) alike for an unknown id, another user's session
  // and one that is no longer live.
  boost::asio::awaitable<void> revoke_session(const principal& p, const std::string& id);

  // Called after sessions of a user were revoked at once (password change,
  // logout everywhere), with their ids.
  std::function<void(const std::string& user_id, const std::vector<std::string>& session_ids)> on_sessions_revoked;

  // The principal for `token`, or null when it is malformed, unknown,
  // revoked, expired, or unused for session_idle. A use is recorded in the
  // database when the recorded one is older than record_use_every() (one
  // write a minute per session at most), by a coroutine of its own on this
  // executor: the request does not wait for it.
  boost::asio::awaitable<std::shared_ptr<const principal>> authenticate(std::string_view token);

  // An API key ("reel_sk_…", docs/api-keys.md) authenticates too, with the
  // same cache: its principal has api_key set, no user (id ""), and one
  // membership, its organization with the key's role; it never expires or
  // goes idle, and lives until revoked. Its use is recorded as a session's.

  // Key `key_id` (whose secret hashes to `token_hash`) was deleted: forget it
  // at once and tell on_api_key_revoked.
  void api_key_revoked(const std::string& key_id, const std::string& token_hash);
  // Called after an API key was revoked (api_key_revoked), with its id and token hash.
  std::function<void(const std::string& key_id, const std::string& token_hash)> on_api_key_revoked;

  // Called after a session is revoked (logout), with its id and token hash.
  std::function<void(const std::string& session_id, const std::string& token_hash)> on_logout;

  // Called after a user's membership of an organization changed: its new
  // role, or nullopt when they were removed. Open connections of that user
  // in that organization must follow at once (the realtime server disconnects
  // a removed member).
  std::function<void(const std::string& org_id, const std::string& user_id, std::optional<model::role> now)>
      on_membership_changed;

  // The organizations `who` belongs to as the database has them now: the
  // principal's copy may be cached, and their storage usage changes with
  // every upload, processing and delete.
  boost::asio::awaitable<std::vector<model::membership>> memberships(const principal& who);

  // Membership rows were added (a new organization, a new member): forget
  // cached memberships and tell on_memberships_changed.
  void memberships_changed() {
    forget_all();
    if (on_memberships_changed) on_memberships_changed();
  }
  std::function<void()> on_memberships_changed;
  // One user's membership of `org_id` changed (nullopt: removed): forget
  // cached memberships and tell on_membership_changed.
  void membership_changed(const std::string& org_id, const std::string& user_id, std::optional<model::role> now);

  // What another process of the cluster changed: forget what this one
  // cached (without telling the callbacks above, which already ran there).
  void forget_session(const std::string& token_hash) {
    ++generation_;
    cache_.erase(token_hash);
  }
  void forget_all() {
    ++generation_;
    cache_.clear();
  }
  // How long an authenticated token is trusted without asking the database;
  // shortened while this process might miss another's revocations.
  void set_cache_ttl(std::chrono::seconds ttl) { settings_.cache_ttl = ttl; }

  // Failed logins counted elsewhere than in this process (all nodes of a
  // cluster); `l` must outlive this object.
  void use_login_limiter(login_limiter& l) { limiter_ = &l; }
  // Registrations counted by every process of a cluster; `r` must outlive this object.
  void use_rate_limiter(rate_limiter& r) { rates_ = &r; }
  // The rate limiter in use (other rules count their events with it too).
  rate_limiter& rates() noexcept { return *rates_; }

  // Hashing, verification and the password policy.
  password_hasher& passwords() noexcept { return hasher_; }

  // Deletes sessions that expired, were revoked or went idle.
  boost::asio::awaitable<std::int64_t> sweep_sessions();

  // How often a session's use is written at most: a minute, or a quarter of
  // session_idle when that is shorter. The recorded use trails the real one
  // by less than this, so a session may end up to this much before it has
  // been unused for session_idle.
  std::chrono::seconds record_use_every() const noexcept {
    return std::min(std::chrono::seconds(60), settings_.session_idle / 4);
  }

  std::chrono::seconds session_ttl() const noexcept { return settings_.session_ttl; }
  std::optional<std::int64_t> default_storage_quota() const noexcept { return settings_.default_storage_quota; }
  // The clock sessions expire by.
  const clock& time() const noexcept { return clock_; }

  // Sets the user's password to `next` (its length validated by the
  // caller), checked against the password policy and hashed as
  // change_password does (error(bad_request) naming "newPassword",
  // error(unavailable) when hashing is saturated), and ends every session of
  // the user on every node.
  // `first` (may be empty) runs at the start of the same transaction and
  // may throw to leave everything as it was (a password reset spends its
  // link there). Throws error(not_found) for an unknown user.
  boost::asio::awaitable<void> set_password(const std::string& user_id, const std::string& next,
                                            std::function<void(db::transaction&)> first);

 private:
  boost::asio::awaitable<const std::string*> dummy_hash();
  // Hashes `password` again at the configured cost and stores it, unless the
  // user's hash is no longer `was` (a login does it, after its answer, when
  // the stored hash has another cost).
  boost::asio::awaitable<void> rehash_password(std::string user_id, std::string was, std::string password);
  // Counts a registration from `address` against the hourly limits.
  boost::asio::awaitable<void> admit_registration(const std::string& address);
  // After sessions `ids` of a user were revoked: forgets cached tokens and
  // tells on_sessions_revoked.
  void sessions_revoked(const std::string& user_id, const std::vector<std::string>& ids);
  // The session of `p` was used at `now`; its use was last recorded at
  // `recorded`. Returns the use recorded now: `now` when it was old enough
  // to write again (written in the background), else `recorded`.
  // `id` is a session's, or an API key's when `api_key`.
  sys_time note_use(const boost::asio::any_io_executor& ex, const std::string& id, bool api_key, sys_time recorded,
                    sys_time now);
  boost::asio::awaitable<void> record_use(std::string id, bool api_key, sys_time at);
  // authenticate() for a token that starts with "reel_sk_".
  boost::asio::awaitable<std::shared_ptr<const principal>> authenticate_key(std::string_view token);
  // The session record a registration or login inserts.
  model::session_record new_session(const std::string& user_id, const std::string& token_hash, sys_time now,
                                    const session_origin& origin) const;

  db::gateway& db_;
  const clock& clock_;
  account_settings settings_;
  local_login_limiter local_limiter_;
  login_limiter* limiter_ = &local_limiter_;
  local_rate_limiter local_rates_;
  rate_limiter* rates_ = &local_rates_;
  password_hasher hasher_;
  std::optional<std::string> dummy_hash_;
  struct cached {
    std::shared_ptr<const principal> p;
    sys_time cached_at;
    sys_time last_used;  // as recorded in the database (or on its way there)
  };
  std::unordered_map<std::string, cached> cache_;  // by token hash
  // Bumped by every logout and membership change: an authentication whose
  // database read began before one does not cache what it read.
  std::uint64_t generation_ = 0;
};

}  // namespace reel::domain
