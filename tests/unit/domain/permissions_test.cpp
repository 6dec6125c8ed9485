#include "domain/permissions.hpp"

#include "core/errors.hpp"

#include <gtest/gtest.h>

using namespace reel;
using domain::action;
using model::role;

namespace {

model::principal member_of(std::vector<std::pair<std::string, role>> orgs) {
  model::principal p;
  p.user.id = "u1";
  for (auto& [id, r] : orgs) p.memberships.push_back({{id, "Org " + id, ""}, r, ""});
  return p;
}

errc permissions_code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const error& e) {
    return e.code();
  }
  return errc{};
}

}  // namespace

TEST(permissions, each_action_needs_its_role) {
  EXPECT_EQ(domain::required_role(action::view_videos), role::viewer);
  EXPECT_EQ(domain::required_role(action::view_members), role::viewer);
  EXPECT_EQ(domain::required_role(action::upload_video), role::member);
  EXPECT_EQ(domain::required_role(action::edit_video), role::member);
  EXPECT_EQ(domain::required_role(action::delete_video), role::member);
  EXPECT_EQ(domain::required_role(action::manage_members), role::admin);
  EXPECT_EQ(domain::required_role(action::manage_webhooks), role::admin);
  model::org_scope viewer{"o1", "Org", role::viewer};
  EXPECT_NO_THROW(domain::require(viewer, action::view_videos));
  EXPECT_EQ(permissions_code_of([&] { domain::require(viewer, action::upload_video); }), errc::forbidden);
  model::org_scope admin{"o1", "Org", role::admin};
  EXPECT_NO_THROW(domain::require(admin, action::manage_members));
  EXPECT_EQ(domain::required_role(action::manage_api_keys), role::admin);
  EXPECT_NO_THROW(domain::require(admin, action::manage_api_keys));
  model::org_scope member{"o1", "Org", role::member};
  EXPECT_EQ(permissions_code_of([&] { domain::require(member, action::manage_api_keys); }), errc::forbidden);
}

TEST(permissions, an_api_key_never_manages_api_keys_whatever_its_role) {
  model::principal key = member_of({{"o1", role::admin}});
  key.user.id.clear();
  key.api_key = model::api_key_ref{"k1", "Key", "reel_sk_abcdefgh"};
  auto scope = domain::acting_org(key, std::nullopt);
  EXPECT_TRUE(scope.by_api_key);
  EXPECT_NO_THROW(domain::require(scope, action::manage_members));
  EXPECT_EQ(permissions_code_of([&] { domain::require(scope, action::manage_api_keys); }), errc::forbidden);
  EXPECT_FALSE(key.person_id());
  EXPECT_EQ(member_of({{"o1", role::owner}}).person_id(), "u1");
}

TEST(permissions, a_caller_acts_in_the_requested_organization_or_their_oldest) {
  auto p = member_of({{"o1", role::viewer}, {"o2", role::owner}});
  EXPECT_EQ(domain::acting_org(p, std::nullopt).id, "o1");
  auto in_o2 = domain::acting_org(p, "o2");
  EXPECT_EQ(in_o2.id, "o2");
  EXPECT_EQ(in_o2.role, role::owner);
  EXPECT_EQ(permissions_code_of([&] { domain::acting_org(p, "o9"); }), errc::forbidden);
  EXPECT_EQ(permissions_code_of([&] { domain::acting_org(member_of({}), std::nullopt); }), errc::forbidden);
}

TEST(permissions, a_resource_of_another_tenant_or_another_named_organization_is_out_of_reach) {
  auto p = member_of({{"o1", role::viewer}, {"o2", role::member}});
  EXPECT_NE(domain::resource_membership(p, "o2", ""), nullptr);
  EXPECT_NE(domain::resource_membership(p, "o2", "o2"), nullptr);
  EXPECT_EQ(domain::resource_membership(p, "o2", "o1"), nullptr);  // the header names another organization
  EXPECT_EQ(domain::resource_membership(p, "o3", ""), nullptr);    // not a member
}

TEST(permissions, every_member_may_listen_to_their_organization_and_nobody_else_may) {
  auto p = member_of({{"o1", role::viewer}, {"o2", role::admin}});
  EXPECT_EQ(domain::listening_membership(p, "")->org.id, "o1");
  EXPECT_EQ(domain::listening_membership(p, "o2")->org.id, "o2");
  EXPECT_EQ(domain::listening_membership(p, "o3"), nullptr);
  EXPECT_EQ(domain::listening_membership(member_of({}), ""), nullptr);
}
