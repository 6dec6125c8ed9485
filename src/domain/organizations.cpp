#include "domain/organizations.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "domain/accounts.hpp"
#include "domain/permissions.hpp"

#include <cctype>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

// What a membership change may not do, checked inside its transaction.
enum class membership_refusal { none, not_a_member, owner_needed, last_owner };

// The owner rules for changing `target` (currently `target_role`) to
// `new_role` (nullopt: removing them), by a caller with `caller_role`
// (`self`: the caller is the target).
membership_refusal owner_rules(db::transaction& tx, const std::string& org_id, model::role target_role,
                               std::optional<model::role> new_role, model::role caller_role, bool self) {
  bool caller_is_owner = caller_role == model::role::owner;
  bool touches_owner = target_role == model::role::owner || new_role == model::role::owner;
  if (touches_owner && !caller_is_owner && !(self && !new_role)) return membership_refusal::owner_needed;
  // An organization keeps at least one owner.
  bool loses_an_owner = target_role == model::role::owner && new_role != model::role::owner;
  if (loses_an_owner && db::count_owners(tx, org_id) <= 1) return membership_refusal::last_owner;
  return membership_refusal::none;
}

// Answers a refusal; `owner_needed` and `last_owner` say what the change was.
void refuse(membership_refusal r, const char* owner_needed, const char* last_owner) {
  switch (r) {
    case membership_refusal::not_a_member:
      throw error(errc::not_found, "That user is not a member of this organization.");
    case membership_refusal::owner_needed:
      throw error(errc::forbidden, owner_needed);
    case membership_refusal::last_owner:
      throw error(errc::conflict, last_owner);
    case membership_refusal::none:
      break;
  }
}

}  // namespace

bool valid_slug(std::string_view slug) noexcept {
  if (slug.size() < 3 || slug.size() > 48 || slug.front() == '-' || slug.back() == '-') return false;
  return slug.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

std::string unused_slug(db::transaction& tx, std::string_view name) {
  std::string base;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 0x80)
      base += static_cast<char>(std::tolower(u));
    else if (!base.empty() && base.back() != '-')
      base += '-';
    if (base.size() >= 40) break;
  }
  while (!base.empty() && base.back() == '-') base.pop_back();
  if (base.size() < 3) base = base.empty() ? "org" : "org-" + base;
  if (!db::find_organization_by_slug(tx, base)) return base;
  // 6 random letters and digits: 36^6 = 2e9 to one against a clash.
  std::string suffix;
  for (unsigned char c : ids::random_id(12)) {
    if (std::isalnum(c)) suffix += static_cast<char>(std::tolower(c));
    if (suffix.size() == 6) break;
  }
  return base + "-" + suffix;
}

bool valid_origin(std::string_view origin) noexcept {
  std::string_view rest;
  if (origin.starts_with("https://"))
    rest = origin.substr(8);
  else if (origin.starts_with("http://"))
    rest = origin.substr(7);
  else
    return false;
  if (rest.empty() || rest.size() > 253) return false;
  return rest.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
             std::string_view::npos &&
         rest.front() != '.' && rest.front() != ':' && rest.back() != ':';
}

asio::awaitable<model::organization> organizations::update(const model::org_scope& in, const settings_change& c) {
  require(in, action::manage_members);  // admin+
  if (c.slug && in.role != model::role::owner)
    throw error(errc::forbidden, "Only an owner can change the organization's public address.");
  if (c.slug && !valid_slug(*c.slug))
    throw error(errc::bad_request,
                "The field \"slug\" must be 3 to 48 lower-case letters, digits and '-', starting and ending with a "
                "letter or digit.");
  if (c.download_renditions && *c.download_renditions != "none" && *c.download_renditions != "highest" &&
      *c.download_renditions != "all")
    throw error(errc::bad_request, "The field \"downloadRenditions\" must be \"none\", \"highest\" or \"all\".");
  db::organization_changes changes{c.name, c.slug, c.embed_origins, c.download_renditions, c.download_source};
  const std::string& org_id = in.id;
  auto org = co_await db_.write([&](db::transaction& tx) {
    if (c.slug) {
      auto holder = db::find_organization_by_slug(tx, *c.slug);
      if (holder && holder->id != org_id) throw error(errc::conflict, "Another organization has that address.");
    }
    db::update_organization(tx, org_id, changes);
    return db::find_organization(tx, org_id);
  });
  if (!org) throw error(errc::not_found, "No such organization.");
  accounts_.memberships_changed();  // members' cached copies show the change
  co_return std::move(*org);
}

asio::awaitable<model::organization> organizations::by_slug(const std::string& slug) {
  if (!valid_slug(slug)) throw error(errc::not_found, "No such organization.");
  auto org = co_await db_.read([&](db::transaction& tx) { return db::find_organization_by_slug(tx, slug); });
  if (!org) throw error(errc::not_found, "No such organization.");
  co_return std::move(*org);
}

asio::awaitable<model::organization> organizations::create(const model::principal& who, std::string name) {
  std::string now = to_iso8601(clock_.now());
  model::organization org{ids::random_id(12), std::move(name), now};
  org.storage_quota_bytes = accounts_.default_storage_quota();
  const std::string& user_id = who.user.id;
  co_await db_.write([&](db::transaction& tx) {
    org.slug = unused_slug(tx, org.name);
    db::insert_organization(tx, org);
    db::insert_membership(tx, org.id, user_id, model::role::owner, now);
  });
  accounts_.memberships_changed();
  co_return org;
}

asio::awaitable<std::vector<model::membership>> organizations::of(const model::principal& who) {
  co_return co_await accounts_.memberships(who);
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
    if (!m) return membership_refusal::not_a_member;
    auto refused = owner_rules(tx, org_id, m->role, role, in.role, /*self=*/false);
    if (refused != membership_refusal::none) return refused;
    db::set_membership_role(tx, org_id, user_id, role);
    changed = db::find_member(tx, org_id, user_id);
    return membership_refusal::none;
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
    if (!m) return membership_refusal::not_a_member;
    auto refused = owner_rules(tx, org_id, m->role, std::nullopt, in.role, self);
    if (refused != membership_refusal::none) return refused;
    db::delete_membership(tx, org_id, user_id);
    return membership_refusal::none;
  });
  refuse(result, "Only an owner can remove an owner.", "The last owner cannot be removed; add another owner first.");
  accounts_.membership_changed(org_id, user_id, std::nullopt);  // their open sockets are cut at once
}

}  // namespace reel::domain
