// Who may do what, in one place: the role each action needs in an
// organization, which organization a caller acts in, and whether a caller
// may reach a resource (a video, an upload) found by its own id. Every
// service of the domain and every guard of the API asks here.
#pragma once

#include "model/principal.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace reel::domain {

enum class action {
  view_videos,      // list, read, stream, listen to events
  upload_video,     // POST /api/videos, tus uploads
  edit_video,       // PATCH, reprocess
  delete_video,     // DELETE a video
  view_members,     // the member list
  manage_members,   // add members, change roles, remove others
  manage_api_keys,  // create, list and revoke API keys (never by an API key)
  manage_webhooks,  // webhook endpoints, their secrets and deliveries
};

// The lowest role that may perform `a`.
model::role required_role(action a) noexcept;

// Throws error(forbidden), naming the role needed, unless `in.role` allows `a`;
// and for manage_api_keys when the caller is an API key (keys never manage keys).
void require(const model::org_scope& in, action a);

// The organization `who` acts in: `requested` (a route's :orgId or the
// X-Organization-Id header) when given, else their oldest membership.
// Throws error(forbidden) when they are not a member of it (or of any).
model::org_scope acting_org(const model::principal& who, std::optional<std::string_view> requested);

// The caller's membership of `org_id`, the organization of a resource found
// by its own id: null when they are not a member, or when `named_org` (an
// X-Organization-Id header, "" when absent) names another organization.
// Callers answer null as "not found", so that nothing of other tenants leaks.
const model::membership* resource_membership(const model::principal& who, const std::string& org_id,
                                             std::string_view named_org);

// The organization whose events a realtime connection receives: `requested`
// ("" for the oldest membership). Every role may listen. Null when not a member.
const model::membership* listening_membership(const model::principal& who, std::string_view requested);

}  // namespace reel::domain
