#include "domain/accounts.hpp"

#include "auth/passwords.hpp"
#include "auth/tokens.hpp"
#include "core/async.hpp"
#include "core/ids.hpp"
#include "db/accounts.hpp"
#include "db/api_keys.hpp"
#include "db/database.hpp"
#include "domain/organizations.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

namespace reel::domain {

using namespace auth;

namespace asio = boost::asio;

accounts::accounts(db::gateway& db, const clock& c, account_settings settings)
    : db_(db),
      clock_(c),
      settings_(settings),
      local_limiter_(c, settings.throttle),
      local_rates_(c),
      hasher_(
          hasher_settings{settings.hash_threads, settings.hash_queue, settings.cost, settings.password_dictionary}) {}

asio::awaitable<void> accounts::admit_registration(const std::string& address) {
  using namespace std::chrono_literals;
  auto wait = co_await rates_->take("register:address:" + address, settings_.registrations_per_address_hour, 1h);
  if (!wait) wait = co_await rates_->take("register:all", settings_.registrations_per_hour, 1h);
  if (wait)
    throw error(errc::too_many_requests,
                "Too many accounts were registered lately; try again in " + std::to_string(wait->count()) + " seconds.",
                *wait);
}

model::session_record accounts::new_session(const std::string& user_id, const std::string& token_hash, sys_time now,
                                            const session_origin& origin) const {
  model::session_record r;
  r.id = ids::random_id(12);
  r.user_id = user_id;
  r.token_hash = token_hash;
  r.created_at = r.last_used_at = to_iso8601(now);
  r.expires_at = to_iso8601(now + settings_.session_ttl);
  r.address = origin.address;
  r.user_agent = origin.user_agent;
  return r;
}

asio::awaitable<accounts::registration> accounts::register_account(const std::string& email,
                                                                   const std::string& password, const std::string& name,
                                                                   const std::string& org_name,
                                                                   const session_origin& origin) {
  co_await admit_registration(origin.address);
  std::string hash = co_await hasher_.hash_new(password, email, name);

  registration out;
  auto now = clock_.now();
  std::string now_iso = to_iso8601(now);
  out.user = {ids::random_id(12), email, name, std::move(hash), now_iso};
  out.org = {ids::random_id(12), org_name, now_iso};
  out.org.storage_quota_bytes = settings_.default_storage_quota;
  out.token = new_token();
  out.expires_at = now + settings_.session_ttl;
  auto session = new_session(out.user.id, hash_token(out.token), now, origin);
  try {
    co_await db_.write([&](db::transaction& s) {
      db::insert_user(s, out.user);
      out.org.slug = unused_slug(s, out.org.name);
      db::insert_organization(s, out.org);
      db::insert_membership(s, out.org.id, out.user.id, model::role::owner, now_iso);
      db::insert_session(s, session);
    });
  } catch (const db::db_error& e) {
    if (e.code() != errc::conflict) throw;
    throw error(errc::conflict, "An account with this email exists already.");
  }
  out.user.password_hash.clear();
  co_return out;
}

asio::awaitable<const std::string*> accounts::dummy_hash() {
  if (!dummy_hash_) {
    std::string h = co_await hasher_.hash_any(new_token());
    if (!dummy_hash_) dummy_hash_ = std::move(h);
  }
  co_return &*dummy_hash_;
}

asio::awaitable<void> accounts::rehash_password(std::string user_id, std::string was, std::string password) {
  std::string hash = co_await hasher_.hash_any(password);
  co_await db_.write([&](db::transaction& s) { db::replace_password_hash(s, user_id, was, hash); });
}

asio::awaitable<accounts::login_result> accounts::login(const std::string& email, const std::string& password,
                                                        const session_origin& origin) {
  const std::string& address = origin.address;
  auto wait = co_await limiter_->retry_after(email, address);
  if (wait)
    throw error(errc::too_many_requests,
                "Too many failed logins; try again in " + std::to_string(wait->count()) + " seconds.", *wait);

  auto found = co_await db_.read([&](db::transaction& s) { return db::find_user_by_email(s, email); });
  // An unknown email still costs one argon2id verification, so that the
  // answer takes as long as for a wrong password.
  const std::string* stored = nullptr;
  if (found)
    stored = &found->password_hash;
  else
    stored = co_await dummy_hash();
  bool ok = co_await hasher_.verify(*stored, password);
  if (!found || !ok) {
    co_await limiter_->record_failure(email, address);
    throw error(errc::unauthorized, "The email or password is wrong.");
  }
  co_await limiter_->record_success(email);
  if (auth::hashed_at_other_cost(found->password_hash, settings_.cost)) {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, rehash_password(found->id, found->password_hash, password),
                   log_failure("hashing a password again at the configured cost"));
  }

  login_result out;
  auto now = clock_.now();
  out.user = std::move(*found);
  out.user.password_hash.clear();
  out.token = new_token();
  out.expires_at = now + settings_.session_ttl;
  auto session = new_session(out.user.id, hash_token(out.token), now, origin);
  out.memberships = co_await db_.write([&](db::transaction& s) {
    db::insert_session(s, session);
    return db::list_memberships(s, out.user.id);
  });
  co_return out;
}

asio::awaitable<void> accounts::logout(const principal& p) {
  cache_.erase(p.token_hash);
  std::string now = to_iso8601(clock_.now());
  co_await db_.write([&](db::transaction& s) { db::revoke_session(s, p.session_id, now); });
  ++generation_;
  cache_.erase(p.token_hash);  // also what an authentication cached meanwhile
  if (on_logout) on_logout(p.session_id, p.token_hash);
}

asio::awaitable<void> accounts::change_password(const principal& p, const std::string& current, const std::string& next,
                                                const std::string& address) {
  auto wait = co_await limiter_->retry_after(p.user.email, address);
  if (wait)
    throw error(errc::too_many_requests,
                "Too many wrong passwords; try again in " + std::to_string(wait->count()) + " seconds.", *wait);
  auto found = co_await db_.read([&](db::transaction& s) { return db::find_user_by_id(s, p.user.id); });
  if (!found) throw error(errc::unauthorized, "This session's user is gone.");
  bool ok = co_await hasher_.verify(found->password_hash, current);
  if (!ok) {
    co_await limiter_->record_failure(p.user.email, address);
    throw error(errc::forbidden, "The current password is wrong.");
  }
  std::string hash = co_await hasher_.hash_new(next, found->email, found->name, "newPassword");
  std::string now = to_iso8601(clock_.now());
  auto revoked = co_await db_.write([&](db::transaction& s) {
    db::set_password_hash(s, p.user.id, hash);
    return db::revoke_sessions_of_user(s, p.user.id, now, p.session_id);
  });
  sessions_revoked(p.user.id, revoked);
}

asio::awaitable<void> accounts::logout_all(const principal& p) {
  std::string now = to_iso8601(clock_.now());
  auto revoked = co_await db_.write(
      [&](db::transaction& s) { return db::revoke_sessions_of_user(s, p.user.id, now, /*except=*/""); });
  sessions_revoked(p.user.id, revoked);
}

asio::awaitable<std::vector<session_view>> accounts::sessions(const principal& p) {
  auto now = clock_.now();
  std::string now_iso = to_iso8601(now), idle_before = to_iso8601(now - settings_.session_idle);
  auto records =
      co_await db_.read([&](db::transaction& s) { return db::list_live_sessions(s, p.user.id, now_iso, idle_before); });
  std::vector<session_view> out;
  out.reserve(records.size());
  for (auto& r : records) {
    auto created = from_iso8601(r.created_at), used = from_iso8601(r.last_used_at),
         expires = from_iso8601(r.expires_at);
    if (!created || !used || !expires) continue;  // not written by reel
    out.push_back(
        {r.id, *created, *used, *expires, std::move(r.address), std::move(r.user_agent), r.id == p.session_id});
  }
  co_return out;
}

asio::awaitable<void> accounts::revoke_session(const principal& p, const std::string& id) {
  auto not_found = [] { return error(errc::not_found, "No such session."); };
  if (!ids::is_safe_token(id)) throw not_found();
  auto now = clock_.now();
  std::string now_iso = to_iso8601(now), idle_before = to_iso8601(now - settings_.session_idle);
  auto token_hash = co_await db_.write(
      [&](db::transaction& s) { return db::revoke_live_session_of_user(s, id, p.user.id, now_iso, idle_before); });
  if (!token_hash) throw not_found();
  ++generation_;
  cache_.erase(*token_hash);
  if (on_logout) on_logout(id, *token_hash);
}

void accounts::sessions_revoked(const std::string& user_id, const std::vector<std::string>& ids) {
  forget_all();  // the tokens of those sessions are not known here, only their ids
  if (on_sessions_revoked && !ids.empty()) on_sessions_revoked(user_id, ids);
}

void accounts::membership_changed(const std::string& org_id, const std::string& user_id,
                                  std::optional<model::role> now) {
  forget_all();
  if (on_membership_changed) on_membership_changed(org_id, user_id, now);
}

sys_time accounts::note_use(const asio::any_io_executor& ex, const std::string& id, bool api_key, sys_time recorded,
                            sys_time now) {
  if (now - recorded < record_use_every()) return recorded;
  asio::co_spawn(ex, record_use(id, api_key, now), log_failure("recording a session's use"));
  return now;
}

asio::awaitable<void> accounts::record_use(std::string id, bool api_key, sys_time at) {
  std::string at_iso = to_iso8601(at), recorded_before = to_iso8601(at - record_use_every());
  co_await db_.write([&](db::transaction& s) {
    if (api_key)
      db::record_api_key_use(s, id, at_iso, recorded_before);
    else
      db::record_session_use(s, id, at_iso, recorded_before);
  });
}

void accounts::api_key_revoked(const std::string& key_id, const std::string& token_hash) {
  ++generation_;
  cache_.erase(token_hash);
  if (on_api_key_revoked) on_api_key_revoked(key_id, token_hash);
}

namespace {

// The principal of an API key of `org`: no person, one membership.
std::shared_ptr<principal> key_principal(const model::api_key& k, model::organization org, sys_time now) {
  auto p = std::make_shared<principal>();
  p->user.name = k.name;
  p->token_hash = k.token_hash;
  p->expires_at = now + std::chrono::hours(24 * 365 * 100);  // never: until revoked
  p->memberships.push_back({std::move(org), k.role, k.created_at});
  p->api_key = model::api_key_ref{k.id, k.name, k.prefix};
  return p;
}

}  // namespace

asio::awaitable<std::shared_ptr<const principal>> accounts::authenticate_key(std::string_view token) {
  if (!is_api_key_shaped(token)) co_return nullptr;
  std::string token_hash = hash_token(token);
  auto now = clock_.now();
  auto ex = co_await asio::this_coro::executor;
  sys_time remembered{};
  if (auto it = cache_.find(token_hash); it != cache_.end()) {
    auto& entry = it->second;
    if (now - entry.cached_at < settings_.cache_ttl) {
      entry.last_used = note_use(ex, entry.p->api_key->id, true, entry.last_used, now);
      co_return entry.p;
    }
    remembered = entry.last_used;
    cache_.erase(it);
  }
  const auto generation = generation_;
  struct loaded {
    model::api_key key;
    model::organization org;
  };
  auto found = co_await db_.read([&](db::transaction& s) -> std::optional<loaded> {
    auto k = db::find_api_key_by_token_hash(s, token_hash);
    if (!k) return std::nullopt;
    auto org = db::find_organization(s, k->organization_id);
    if (!org) return std::nullopt;
    return loaded{std::move(*k), std::move(*org)};
  });
  if (!found) co_return nullptr;
  sys_time last_used = remembered;
  if (found->key.last_used_at)
    if (auto t = from_iso8601(*found->key.last_used_at)) last_used = std::max(last_used, *t);
  last_used = note_use(ex, found->key.id, true, last_used, now);
  auto p = key_principal(found->key, std::move(found->org), now);
  if (generation != generation_) co_return p;  // what was read may predate a revocation
  if (cache_.size() >= settings_.cache_capacity) cache_.clear();
  cache_[token_hash] = cached{p, now, last_used};
  co_return p;
}

asio::awaitable<std::shared_ptr<const principal>> accounts::authenticate(std::string_view token) {
  if (is_api_key(token)) co_return co_await authenticate_key(token);
  if (!is_token_shaped(token)) co_return nullptr;
  std::string token_hash = hash_token(token);
  auto now = clock_.now();
  auto ex = co_await asio::this_coro::executor;
  sys_time remembered{};  // the use this process recorded last, if it cached the token
  if (auto it = cache_.find(token_hash); it != cache_.end()) {
    auto& entry = it->second;
    bool idle = now - entry.last_used >= settings_.session_idle;
    if (!idle && now < entry.p->expires_at && now - entry.cached_at < settings_.cache_ttl) {
      entry.last_used = note_use(ex, entry.p->session_id, false, entry.last_used, now);
      co_return entry.p;
    }
    remembered = entry.last_used;
    cache_.erase(it);
  }

  const auto generation = generation_;
  struct loaded {
    model::session_record session;
    model::user user;
    std::vector<model::membership> memberships;
  };
  auto found = co_await db_.read([&](db::transaction& s) -> std::optional<loaded> {
    auto rec = db::find_session_by_token_hash(s, token_hash);
    if (!rec || rec->revoked_at) return std::nullopt;
    auto u = db::find_user_by_id(s, rec->user_id);
    if (!u) return std::nullopt;
    auto memberships = db::list_memberships(s, rec->user_id);
    return loaded{std::move(*rec), std::move(*u), std::move(memberships)};
  });
  if (!found) co_return nullptr;
  auto expires = from_iso8601(found->session.expires_at);
  auto used = from_iso8601(found->session.last_used_at);
  if (!expires || *expires <= now || !used) co_return nullptr;
  sys_time last_used = std::max(*used, remembered);
  if (now - last_used >= settings_.session_idle) co_return nullptr;
  last_used = note_use(ex, found->session.id, false, last_used, now);

  auto p = std::make_shared<principal>();
  p->user = std::move(found->user);
  p->user.password_hash.clear();
  p->session_id = found->session.id;
  p->token_hash = token_hash;
  p->expires_at = *expires;
  p->memberships = std::move(found->memberships);
  if (generation != generation_) co_return p;  // what was read may predate a logout or membership change
  if (cache_.size() >= settings_.cache_capacity) cache_.clear();
  cache_[token_hash] = cached{p, now, last_used};
  co_return p;
}

asio::awaitable<std::int64_t> accounts::sweep_sessions() {
  auto now = clock_.now();
  std::string before = to_iso8601(now), idle_before = to_iso8601(now - settings_.session_idle);
  co_return co_await db_.write([&](db::transaction& s) { return db::delete_stale_sessions(s, before, idle_before); });
}

asio::awaitable<void> accounts::set_password(const std::string& user_id, const std::string& next,
                                             std::function<void(db::transaction&)> first) {
  auto found = co_await db_.read([&](db::transaction& s) { return db::find_user_by_id(s, user_id); });
  if (!found) throw error(errc::not_found, "No account has this id.");
  std::string hash = co_await hasher_.hash_new(next, found->email, found->name, "newPassword");
  std::string now = to_iso8601(clock_.now());
  auto revoked = co_await db_.write([&](db::transaction& s) {
    if (first) first(s);
    if (!db::set_password_hash(s, user_id, hash)) throw error(errc::not_found, "No account has this id.");
    return db::revoke_sessions_of_user(s, user_id, now, /*except=*/"");
  });
  sessions_revoked(user_id, revoked);
}

asio::awaitable<std::vector<model::membership>> accounts::memberships(const principal& who) {
  if (who.api_key && !who.memberships.empty()) {  // its one organization, read again
    model::membership m = who.memberships.front();
    const std::string& org_id = m.org.id;
    auto org = co_await db_.read([&](db::transaction& s) { return db::find_organization(s, org_id); });
    if (!org) co_return std::vector<model::membership>{};
    m.org = std::move(*org);
    co_return std::vector<model::membership>{std::move(m)};
  }
  const std::string& user_id = who.user.id;
  co_return co_await db_.read([&](db::transaction& s) { return db::list_memberships(s, user_id); });
}

}  // namespace reel::domain
