// Handlers of docs/API.md "Invitations": /api/orgs/:orgId/invitations for
// the organization's admins, /api/auth/invitations for the invitee, and the
// deprecated POST /api/orgs/:orgId/members, which invites too. The rules are
// the domain's (src/domain/invitations.hpp).
#pragma once

#include "api/guard.hpp"
#include "domain/invitations.hpp"
#include "http/router.hpp"

namespace reel::api {

void add_invitation_routes(http::router& r, const guard& g, domain::invitations& invitations);

}  // namespace reel::api
