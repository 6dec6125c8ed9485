// docs/API.md "Invitations", end to end against the real binary: nobody
// joins an organization without accepting, and inviting tells nothing about
// who has an account. (Expiry is the domain test's, with a clock it moves:
// tests/unit/domain/invitations_test.cpp.)
#include "core/clock.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/smtp_sink.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace reel::test;
namespace json = boost::json;

namespace {

// An organization with an owner, an admin, a member and a viewer; someone
// registered who is in none of it; and an outsider who owns another.
struct invitations_team {
  server_process server;
  account owner, admin, member, viewer, dan, outsider;
  explicit invitations_team(std::map<std::string, std::string> env = {}) : server({}, std::move(env)) {
    auto p = port();
    owner = register_account(p, "owner@example.com", "Team");
    admin = register_account(p, "admin@example.com", "A");
    member = register_account(p, "member@example.com", "M");
    viewer = register_account(p, "viewer@example.com", "V");
    dan = register_account(p, "dan@example.com", "D");
    outsider = register_account(p, "outsider@example.com", "Elsewhere");
    for (auto [who, role] : {std::pair{&admin, "admin"}, {&member, "member"}, {&viewer, "viewer"}})
      invite_and_accept(p, owner, owner.org_id, *who, role);
  }
  unsigned short port() const { return server.port(); }
  std::string sent() const { return "/api/orgs/" + owner.org_id + "/invitations"; }
  api_reply invite(const account& by, const std::string& email, const std::string& role) {
    return call_json(port(), "POST", sent(), by.token, {{"email", email}, {"role", role}});
  }
  api_reply answer(const account& who, const std::string& id, const std::string& verb) {
    return call(port(), "POST", "/api/auth/invitations/" + id + "/" + verb, who.token);
  }
  json::array received(const account& who) {
    auto r = call(port(), "GET", "/api/auth/invitations", who.token);
    if (r.status() != 200) throw std::runtime_error("GET /api/auth/invitations: " + r.raw.body());
    return r.json.at("invitations").as_array();
  }
  json::array pending(const account& by) {
    auto r = call(port(), "GET", sent(), by.token);
    if (r.status() != 200) throw std::runtime_error("GET invitations: " + r.raw.body());
    return r.json.at("invitations").as_array();
  }
};

std::string invitation_id_of(const api_reply& r) { return std::string(r.json.at("invitation").at("id").as_string()); }

}  // namespace

TEST(invitations, an_unknown_email_is_invited_exactly_as_a_registered_one) {
  invitations_team t;
  auto known = t.invite(t.admin, "dan@example.com", "member");
  auto unknown = t.invite(t.admin, " Ghost@Example.com", "member");
  ASSERT_EQ(known.status(), 202) << known.raw.body();
  ASSERT_EQ(unknown.status(), 202) << unknown.raw.body();
  EXPECT_EQ(shape(known.json.as_object()), shape(unknown.json.as_object()));
  EXPECT_EQ(shape(known.json.as_object()),
            (std::set<std::string>{"invitation", "invitation.id", "invitation.email", "invitation.role",
                                   "invitation.createdAt", "invitation.expiresAt", "invitation.invitedBy",
                                   "invitation.invitedBy.id", "invitation.invitedBy.name"}));
  EXPECT_EQ(known.header("Cache-Control"), unknown.header("Cache-Control"));
  const auto& inv = unknown.json.at("invitation");
  EXPECT_EQ(inv.at("email"), "ghost@example.com");
  EXPECT_EQ(inv.at("role"), "member");
  EXPECT_EQ(inv.at("invitedBy").at("id").as_string(), t.admin.user_id);
  EXPECT_EQ(inv.at("invitedBy").at("name"), "User admin@example.com");
  // Everything but the id, the address and the moment reads the same; both
  // last seven days.
  auto same = [](json::value v) {
    auto& o = v.at("invitation").as_object();
    auto created = reel::from_iso8601(o.at("createdAt").as_string());
    auto expires = reel::from_iso8601(o.at("expiresAt").as_string());
    EXPECT_TRUE(created && expires && *expires - *created == std::chrono::hours(7 * 24)) << json::serialize(o);
    for (const char* k : {"id", "email", "createdAt", "expiresAt"}) o.erase(k);
    return json::serialize(v);
  };
  EXPECT_EQ(same(known.json), same(unknown.json));
  // Whoever registers with the address later finds the invitation waiting.
  auto ghost = register_account(t.port(), "ghost@example.com", "G");
  auto waiting = t.received(ghost);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].at("id").as_string(), invitation_id_of(unknown));
  EXPECT_EQ(t.answer(ghost, invitation_id_of(unknown), "accept").status(), 200);
}

TEST(invitations, the_invitee_is_mailed_a_link_to_the_inbox_whether_or_not_registered) {
  smtp_sink sink;
  invitations_team t({{"REEL_SMTP_URL", sink.url()}, {"REEL_SMTP_FROM", "reel <reel@example.com>"}});
  ASSERT_EQ(t.invite(t.admin, "dan@example.com", "admin").status(), 202);
  ASSERT_EQ(t.invite(t.admin, "ghost@example.com", "viewer").status(), 202);
  // Three more went to the team's admin, member and viewer when they were invited.
  ASSERT_TRUE(sink.wait_for(5)) << t.server.log();
  std::map<std::string, received_mail> to;
  for (const auto& m : sink.messages())
    for (const auto& r : m.rcpt_to) to[r] = m;
  ASSERT_TRUE(to.count("dan@example.com") && to.count("ghost@example.com"));
  const auto &dan = to["dan@example.com"], &ghost = to["ghost@example.com"];
  EXPECT_EQ(dan.header("Subject"), "User admin@example.com invited you to Team on reel");
  EXPECT_EQ(ghost.header("Subject"), dan.header("Subject"));
  EXPECT_NE(dan.body().find("as an admin."), std::string::npos) << dan.body();
  EXPECT_NE(ghost.body().find("as a viewer."), std::string::npos) << ghost.body();
  std::string link = "\nhttp://localhost:" + std::to_string(t.port()) + "/#/invitations\n";
  EXPECT_NE(ghost.body().find(link), std::string::npos) << ghost.body();
  EXPECT_EQ(to["viewer@example.com"].header("Subject"), "User owner@example.com invited you to Team on reel");
}

TEST(invitations, the_invitee_sees_the_invitation_accepts_once_and_is_a_member) {
  invitations_team t;
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", t.dan.token, "", {{"X-Organization-Id", t.owner.org_id}}).status(),
            403);
  auto sent = t.invite(t.admin, "dan@example.com", "member");
  ASSERT_EQ(sent.status(), 202);
  std::string id = invitation_id_of(sent);
  auto mine = t.received(t.dan);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(shape(mine[0].as_object()),
            (std::set<std::string>{"id", "organization", "organization.id", "organization.name", "role", "invitedBy",
                                   "invitedBy.name", "createdAt", "expiresAt"}));
  EXPECT_EQ(mine[0].at("organization").at("id").as_string(), t.owner.org_id);
  EXPECT_EQ(mine[0].at("organization").at("name"), "Team");
  EXPECT_EQ(mine[0].at("invitedBy").at("name"), "User admin@example.com");
  EXPECT_EQ(mine[0].at("role"), "member");
  EXPECT_EQ(mine[0].at("expiresAt"), sent.json.at("invitation").at("expiresAt"));
  EXPECT_TRUE(t.received(t.member).empty());
  // Still not a member.
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs", t.dan.token).json.at("organizations").as_array().size(), 1u);

  auto accepted = t.answer(t.dan, id, "accept");
  ASSERT_EQ(accepted.status(), 200) << accepted.raw.body();
  auto orgs = call(t.port(), "GET", "/api/orgs", t.dan.token).json.at("organizations").as_array();
  ASSERT_EQ(orgs.size(), 2u);
  EXPECT_EQ(json::serialize(accepted.json.at("organization")), json::serialize(orgs[1]));
  EXPECT_EQ(orgs[1].at("role"), "member");
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", t.dan.token, "", {{"X-Organization-Id", t.owner.org_id}}).status(),
            200);
  auto upload = call(t.port(), "POST", "/api/videos?title=x", t.dan.token, "abc",
                     {{"Content-Type", "video/mp4"}, {"X-Organization-Id", t.owner.org_id}});
  EXPECT_EQ(upload.status(), 201);  // the role the invitation gave
  EXPECT_TRUE(t.received(t.dan).empty());
  EXPECT_TRUE(t.pending(t.owner).empty());
  auto again = t.answer(t.dan, id, "accept");
  EXPECT_EQ(again.status(), 404);
  EXPECT_EQ(again.error_code(), "not_found");
  // A member already: inviting them again is a conflict (the inviter sees the member list anyway).
  EXPECT_EQ(t.invite(t.admin, "dan@example.com", "viewer").status(), 409);
}

TEST(invitations, a_declined_or_revoked_invitation_is_gone_for_everyone) {
  invitations_team t;
  std::string declined = invitation_id_of(t.invite(t.owner, "dan@example.com", "viewer"));
  EXPECT_EQ(t.answer(t.dan, declined, "decline").status(), 204);
  EXPECT_TRUE(t.received(t.dan).empty());
  EXPECT_TRUE(t.pending(t.owner).empty());
  EXPECT_EQ(t.answer(t.dan, declined, "accept").status(), 404);
  EXPECT_EQ(t.answer(t.dan, declined, "decline").status(), 404);

  std::string revoked = invitation_id_of(t.invite(t.owner, "dan@example.com", "viewer"));
  EXPECT_NE(revoked, declined);
  ASSERT_EQ(t.pending(t.admin).size(), 1u);
  EXPECT_EQ(t.pending(t.admin)[0].at("id").as_string(), revoked);
  EXPECT_EQ(call(t.port(), "DELETE", t.sent() + "/" + revoked, t.admin.token).status(), 204);
  EXPECT_TRUE(t.received(t.dan).empty());
  EXPECT_TRUE(t.pending(t.owner).empty());
  EXPECT_EQ(t.answer(t.dan, revoked, "accept").status(), 404);
  EXPECT_EQ(call(t.port(), "DELETE", t.sent() + "/" + revoked, t.admin.token).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs", t.dan.token).json.at("organizations").as_array().size(), 1u);
}

TEST(invitations, only_the_invitee_answers_and_every_other_id_is_alike_not_found) {
  invitations_team t;
  std::string id = invitation_id_of(t.invite(t.owner, "dan@example.com", "admin"));
  auto stolen = t.answer(t.outsider, id, "accept");
  auto unknown = t.answer(t.outsider, "no-such-invitation", "accept");
  EXPECT_EQ(stolen.status(), 404);
  EXPECT_EQ(stolen.raw.body(), unknown.raw.body());
  EXPECT_EQ(t.answer(t.member, id, "accept").status(), 404);  // a member of the organization, not the invitee
  EXPECT_EQ(t.answer(t.outsider, id, "decline").status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs", t.outsider.token).json.at("organizations").as_array().size(), 1u);
  // The invitation is untouched: dan still holds it.
  EXPECT_EQ(t.answer(t.dan, id, "accept").status(), 200);
}

TEST(invitations, tenants_roles_and_sessions_are_checked_on_every_route) {
  invitations_team t;
  std::string id = invitation_id_of(t.invite(t.owner, "dan@example.com", "viewer"));
  std::string one = t.sent() + "/" + id;
  // Anonymous, and a session that has ended: 401 everywhere.
  auto ended = register_account(t.port(), "ended@example.com", "E");
  ASSERT_EQ(call(t.port(), "POST", "/api/auth/logout", ended.token).status(), 204);
  for (const std::string& token : {std::string(), ended.token}) {
    EXPECT_EQ(call_json(t.port(), "POST", t.sent(), token, {{"email", "x@example.com"}, {"role", "viewer"}}).status(),
              401);
    EXPECT_EQ(call(t.port(), "GET", t.sent(), token).status(), 401);
    EXPECT_EQ(call(t.port(), "DELETE", one, token).status(), 401);
    EXPECT_EQ(call(t.port(), "GET", "/api/auth/invitations", token).status(), 401);
    EXPECT_EQ(call(t.port(), "POST", "/api/auth/invitations/" + id + "/accept", token).status(), 401);
    EXPECT_EQ(call(t.port(), "POST", "/api/auth/invitations/" + id + "/decline", token).status(), 401);
  }
  // Another organization's owner: this organization's routes are refused as
  // for any organization they are not in (403, existing or not), and this
  // organization's invitation is unknown in their own.
  EXPECT_EQ(call(t.port(), "GET", t.sent(), t.outsider.token).status(), 403);
  EXPECT_EQ(call(t.port(), "DELETE", one, t.outsider.token).status(), 403);
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs/no-such-org/invitations", t.outsider.token).status(), 403);
  auto theirs = call(t.port(), "DELETE", "/api/orgs/" + t.outsider.org_id + "/invitations/" + id, t.outsider.token);
  EXPECT_EQ(theirs.status(), 404);
  EXPECT_EQ(theirs.error_code(), "not_found");
  auto listed = call(t.port(), "GET", "/api/orgs/" + t.outsider.org_id + "/invitations", t.outsider.token);
  ASSERT_EQ(listed.status(), 200);
  EXPECT_TRUE(listed.json.at("invitations").as_array().empty());
  // Members and viewers neither invite, nor see, nor revoke invitations.
  for (const auto* who : {&t.member, &t.viewer}) {
    auto r = t.invite(*who, "x@example.com", "viewer");
    EXPECT_EQ(r.status(), 403) << who->email;
    EXPECT_EQ(r.error_code(), "forbidden");
    EXPECT_EQ(call(t.port(), "GET", t.sent(), who->token).status(), 403);
    EXPECT_EQ(call(t.port(), "DELETE", one, who->token).status(), 403);
  }
  // Only an owner invites an owner, or revokes their invitation.
  EXPECT_EQ(t.invite(t.admin, "x@example.com", "owner").status(), 403);
  std::string owner_id = invitation_id_of(t.invite(t.owner, "x@example.com", "owner"));
  EXPECT_EQ(call(t.port(), "DELETE", t.sent() + "/" + owner_id, t.admin.token).status(), 403);
  EXPECT_EQ(call(t.port(), "DELETE", t.sent() + "/" + owner_id, t.owner.token).status(), 204);
  // The invitation survived all of that.
  EXPECT_EQ(t.received(t.dan).size(), 1u);
}

TEST(invitations, a_cookie_from_another_site_cannot_accept) {
  invitations_team t;
  std::string id = invitation_id_of(t.invite(t.owner, "dan@example.com", "viewer"));
  std::string path = "/api/auth/invitations/" + id + "/accept";
  auto foreign = call(t.port(), "POST", path, "", "",
                      {{"Cookie", "reel_session=" + t.dan.token}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign.status(), 403);
  EXPECT_EQ(t.received(t.dan).size(), 1u);
  auto own =
      call(t.port(), "POST", path, "", "", {{"Cookie", "reel_session=" + t.dan.token}, {"Origin", "http://127.0.0.1"}});
  EXPECT_EQ(own.status(), 200) << own.raw.body();
}

TEST(invitations, bad_bodies_are_refused_naming_the_field) {
  invitations_team t;
  auto expect_400 = [&](const std::string& body, const std::string& field) {
    auto r = call(t.port(), "POST", t.sent(), t.owner.token, body);
    EXPECT_EQ(r.status(), 400) << body;
    EXPECT_EQ(r.error_code(), "bad_request") << body;
    std::string message = r.json.is_object() ? std::string(r.json.at("error").at("message").as_string()) : "";
    EXPECT_NE(message.find(field), std::string::npos) << body << " → " << message;
  };
  expect_400(R"({"role":"viewer"})", "email");
  expect_400(R"({"email":"not an address","role":"viewer"})", "email");
  expect_400(R"({"email":7,"role":"viewer"})", "email");
  expect_400(R"({"email":"x@example.com"})", "role");
  expect_400(R"({"email":"x@example.com","role":"god"})", "role");
  expect_400(R"({"email":"x@example.com","role":null})", "role");
  expect_400("[]", "object");
  EXPECT_EQ(call(t.port(), "POST", t.sent(), t.owner.token, "{").status(), 400);
  EXPECT_TRUE(t.pending(t.owner).empty());
}
