#include "domain/organizations.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "domain/accounts.hpp"
#include "domain/permissions.hpp"

namespace reel::domain {

namespace asio = boost::asio;

namespace {

// What a membership change may not do, checked inside its transaction.
enum class refusal { none, not_a_member, owner_needed, last_owner };

// The owner rules for changing `target` (currently `target_role`) to
// `new_role` (nullopt: removing them), by a caller with `caller_role`
// (`self`: the caller is the target).
refusal owner_rules(db::transaction& tx, const std::string& org_id, model::role target_role,
                    std::optional<model::role> new_role, model::role caller_role, bool self) {
  bool caller_is_owner = caller_role == model::role::owner;
  bool touches_owner = target_role == model::role::owner || new_role == model::role::owner;
  if (touches_owner && !caller_is_owner && !(self && !new_role)) return refusal::owner_needed;
  // An organization keeps at least one owner.
  bool loses_an_owner = target_role == model::role::owner && new_role != model::role::owner;
  if (loses_an_owner && db::count_owners(tx, org_id) <= 1) return refusal::last_owner;
  return refusal::none;
}

// Answers a refusal; `owner_needed` and `last_owner` say what the change was.
void refuse(refusal r, const char* owner_needed, const char* last_owner) {
  switch (r) {
    case refusal::not_a_member:
      throw error(errc::not_found, "That user is not a member of this organization.");
    case refusal::owner_needed:
      throw error(errc::forbidden, owner_needed);
    case refusal::last_owner:
      throw error(errc::conflict, last_owner);
    case refusal::none:
      break;
  }
}

}  // namespace

asio::awaitable<model::organization> organizations::create(const model::principal& who, std::string name) {
  std::string now = to_iso8601(clock_.now());
  model::organization org{ids::random_id(12), std::move(name), now};
  const std::string& user_id = who.user.id;
  co_await db_.write([&](db::transaction& tx) {
    db::insert_organization(tx, org);
    db::insert_membership(tx, org.id, user_id, model::role::owner, now);
  });
  accounts_.memberships_changed();
  co_return org;
}

asio::awaitable<std::vector<model::member>> organizations::members(const model::org_scope& in) {
  require(in, action::view_members);
  const std::string& org_id = in.id;
  co_return co_await db_.read([&](db::transaction& tx) { return db::list_members(tx, org_id); });
}

asio::awaitable<model::member> organizations::change_role(const model::org_scope& in, const std::string& user_id,
                                                          model::role role) {
  require(in, action::manage_members);
  const std::string& org_id = in.id;
  std::optional<model::member> changed;
  auto result = co_await db_.write([&](db::transaction& tx) {
    db::lock_organization(tx, org_id);  // the owner rules read, then write
    auto m = db::find_member(tx, org_id, user_id);
    if (!m) return refusal::not_a_member;
    auto refused = owner_rules(tx, org_id, m->role, role, in.role, /*self=*/false);
    if (refused != refusal::none) return refused;
    db::set_membership_role(tx, org_id, user_id, role);
    changed = db::find_member(tx, org_id, user_id);
    return refusal::none;
  });
  refuse(result, "Only an owner can make or unmake an owner.",
         "The last owner must stay an owner; make someone else an owner first.");
  accounts_.membership_changed(org_id, user_id, role);
  co_return std::move(*changed);
}

asio::awaitable<void> organizations::remove_member(const model::principal& who, const model::org_scope& in,
                                                   const std::string& user_id) {
  bool self = user_id == who.user.id;
  if (!self) require(in, action::manage_members);
  const std::string& org_id = in.id;
  auto result = co_await db_.write([&](db::transaction& tx) {
    db::lock_organization(tx, org_id);  // the owner rules read, then write
    auto m = db::find_member(tx, org_id, user_id);
    if (!m) return refusal::not_a_member;
    auto refused = owner_rules(tx, org_id, m->role, std::nullopt, in.role, self);
    if (refused != refusal::none) return refused;
    db::delete_membership(tx, org_id, user_id);
    return refusal::none;
  });
  refuse(result, "Only an owner can remove an owner.", "The last owner cannot be removed; add another owner first.");
  accounts_.membership_changed(org_id, user_id, std::nullopt);  // their open sockets are cut at once
}

}  // namespace reel::domain
