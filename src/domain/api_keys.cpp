#include "domain/api_keys.hpp"

#include "auth/tokens.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/api_keys.hpp"
#include "db/database.hpp"
#include "domain/accounts.hpp"
#include "domain/permissions.hpp"

namespace reel::domain {

namespace asio = boost::asio;

asio::awaitable<api_keys::created> api_keys::create(const model::principal& who, const model::org_scope& in,
                                                    std::string name, model::role role) {
  require(in, action::manage_api_keys);
  if (role == model::role::owner)
    throw error(errc::bad_request,
                "The field \"role\" must be \"viewer\", \"member\" or \"admin\": no key is an owner.");
  if (!model::at_least(in.role, role))
    throw error(errc::bad_request, "The field \"role\" is above your own role in this organization.");
  created out;
  out.secret = auth::new_api_key();
  model::api_key& k = out.key;
  k.id = ids::random_id(12);
  k.organization_id = in.id;
  k.name = std::move(name);
  k.role = role;
  k.prefix = out.secret.substr(0, auth::k_api_key_shown_chars);
  k.token_hash = auth::hash_token(out.secret);
  k.created_by = who.person_id();
  if (k.created_by) k.creator_name = who.user.name;
  k.created_at = to_iso8601(clock_.now());
  co_await db_.write([&](db::transaction& s) { db::insert_api_key(s, k); });
  co_return out;
}

asio::awaitable<std::vector<model::api_key>> api_keys::list(const model::org_scope& in) {
  require(in, action::manage_api_keys);
  const std::string& org_id = in.id;
  co_return co_await db_.read([&](db::transaction& s) { return db::list_api_keys(s, org_id); });
}

asio::awaitable<void> api_keys::revoke(const model::org_scope& in, const std::string& id) {
  require(in, action::manage_api_keys);
  if (!ids::is_safe_token(id)) throw error(errc::not_found, "No such API key.");
  const std::string& org_id = in.id;
  auto token_hash = co_await db_.write([&](db::transaction& s) { return db::delete_api_key(s, org_id, id); });
  if (!token_hash) throw error(errc::not_found, "No such API key.");
  accounts_.api_key_revoked(id, *token_hash);
}

}  // namespace reel::domain
