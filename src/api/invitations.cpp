#include "api/invitations.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "model/json.hpp"

#include <boost/json/array.hpp>

namespace reel::api {

using domain::action;

namespace {

// As the organization's admins see it: {id, email, role, createdAt, expiresAt, invitedBy: {id, name} | null}.
json::object sent_json(const model::invitation& inv) {
  json::value by = nullptr;
  if (inv.inviter_id) by = json::object{{"id", *inv.inviter_id}, {"name", inv.inviter_name.value_or("")}};
  return {{"id", inv.id},
          {"email", inv.email},
          {"role", model::role_name(inv.role)},
          {"createdAt", inv.created_at},
          {"expiresAt", inv.expires_at},
          {"invitedBy", std::move(by)}};
}

// As the invitee sees it: {id, organization: {id, name}, role, invitedBy: {name} | null, createdAt, expiresAt}.
json::object received_json(const model::invitation& inv) {
  json::value by = nullptr;
  if (inv.inviter_name) by = json::object{{"name", *inv.inviter_name}};
  return {{"id", inv.id},
          {"organization", {{"id", inv.org.id}, {"name", inv.org.name}}},
          {"role", model::role_name(inv.role)},
          {"invitedBy", std::move(by)},
          {"createdAt", inv.created_at},
          {"expiresAt", inv.expires_at}};
}

// POST /api/orgs/:orgId/invitations {email, role}, and the deprecated
// POST /api/orgs/:orgId/members: 202 whether or not the email has an account.
asio::awaitable<response> invite(domain::invitations& invitations, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  std::string email = require_email(body);
  auto role = require_role(body);
  auto inv = co_await invitations.invite(*ctx.principal, *ctx.org, email, role);
  co_return no_store(http::json_response(status::accepted, json::object{{"invitation", sent_json(inv)}}));
}

// GET /api/orgs/:orgId/invitations: the pending ones.
asio::awaitable<response> list_sent(domain::invitations& invitations, context& ctx) {
  auto pending = co_await invitations.pending_of(*ctx.org);
  json::array out;
  for (const auto& inv : pending) out.push_back(sent_json(inv));
  co_return no_store(http::json_response(status::ok, json::object{{"invitations", std::move(out)}}));
}

// DELETE /api/orgs/:orgId/invitations/:id
asio::awaitable<response> revoke(domain::invitations& invitations, context& ctx) {
  co_await invitations.revoke(*ctx.org, ctx.params.at("id"));
  co_return http::empty_response(status::no_content);
}

// GET /api/auth/invitations: the caller's pending invitations.
asio::awaitable<response> list_received(domain::invitations& invitations, context& ctx) {
  auto pending = co_await invitations.pending_for(*ctx.principal);
  json::array out;
  for (const auto& inv : pending) out.push_back(received_json(inv));
  co_return no_store(http::json_response(status::ok, json::object{{"invitations", std::move(out)}}));
}

// POST /api/auth/invitations/:id/accept → the organization, as GET /api/orgs lists it.
asio::awaitable<response> accept(domain::invitations& invitations, context& ctx) {
  auto joined = co_await invitations.accept(*ctx.principal, ctx.params.at("id"));
  co_return no_store(http::json_response(status::ok, json::object{{"organization", model::organization_json(joined)}}));
}

// POST /api/auth/invitations/:id/decline
asio::awaitable<response> decline(domain::invitations& invitations, context& ctx) {
  co_await invitations.decline(*ctx.principal, ctx.params.at("id"));
  co_return http::empty_response(status::no_content);
}

}  // namespace

void add_invitation_routes(http::router& r, const guard& g, domain::invitations& invitations) {
  auto h = [&invitations](auto fn) { return http::bind_handler(invitations, fn); };
  using http::verb;
  r.add(verb::post, "/api/orgs/:orgId/invitations", g.org(action::manage_members, h(invite)));
  r.add(verb::get, "/api/orgs/:orgId/invitations", g.org(action::manage_members, h(list_sent)));
  r.add(verb::delete_, "/api/orgs/:orgId/invitations/:id", g.org(action::manage_members, h(revoke)));
  // Deprecated: adding a member used to be immediate; it invites now, answering as above.
  r.add(verb::post, "/api/orgs/:orgId/members", g.org(action::manage_members, h(invite)));
  r.add(verb::get, "/api/auth/invitations", g.person(h(list_received)));
  r.add(verb::post, "/api/auth/invitations/:id/accept", g.person(h(accept)));
  r.add(verb::post, "/api/auth/invitations/:id/decline", g.person(h(decline)));
}

}  // namespace reel::api
