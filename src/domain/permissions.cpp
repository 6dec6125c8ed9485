#include "domain/permissions.hpp"

#include "core/errors.hpp"

namespace reel::domain {

model::role required_role(action a) noexcept {
  switch (a) {
    case action::view_videos:
    case action::view_members:
      return model::role::viewer;
    case action::upload_video:
    case action::edit_video:
    case action::delete_video:
      return model::role::member;
    case action::manage_members:
    case action::manage_api_keys:
    case action::manage_webhooks:
      return model::role::admin;
  }
  return model::role::owner;
}

void require(const model::org_scope& in, action a) {
  if (a == action::manage_api_keys && in.by_api_key)
    throw error(errc::forbidden, "API keys cannot manage API keys; an admin or owner signed in must.");
  model::role need = required_role(a);
  if (!model::at_least(in.role, need))
    throw error(errc::forbidden, "Your role in this organization does not allow this; it needs " +
                                     std::string(model::role_name(need)) + " or higher.");
}

model::org_scope acting_org(const model::principal& who, std::optional<std::string_view> requested) {
  const model::membership* m = nullptr;
  if (requested)
    m = who.membership_in(*requested);
  else if (!who.memberships.empty())
    m = &who.memberships.front();
  else
    throw error(errc::forbidden, "You are not a member of any organization.");
  if (!m) throw error(errc::forbidden, "You are not a member of this organization.");
  return {m->org.id, m->org.name, m->role, who.api_key.has_value()};
}

const model::membership* resource_membership(const model::principal& who, const std::string& org_id,
                                             std::string_view named_org) {
  if (!named_org.empty() && named_org != org_id) return nullptr;
  return who.membership_in(org_id);
}

const model::membership* listening_membership(const model::principal& who, std::string_view requested) {
  if (requested.empty()) return who.memberships.empty() ? nullptr : &who.memberships.front();
  return who.membership_in(requested);
}

}  // namespace reel::domain
