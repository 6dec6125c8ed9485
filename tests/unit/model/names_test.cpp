#include "model/accounts.hpp"
#include "model/videos.hpp"

#include <gtest/gtest.h>

using namespace reel::model;

TEST(roles, order_is_owner_admin_member_viewer) {
  EXPECT_TRUE(at_least(role::owner, role::admin));
  EXPECT_TRUE(at_least(role::admin, role::member));
  EXPECT_TRUE(at_least(role::member, role::viewer));
  EXPECT_FALSE(at_least(role::viewer, role::member));
  EXPECT_FALSE(at_least(role::admin, role::owner));
  EXPECT_EQ(parse_role("admin"), role::admin);
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
  EXPECT_EQ(role_name(role::viewer), "viewer");
}

TEST(video_status, names_round_trip_and_unknown_names_are_refused) {
  for (auto s : {video_status::uploading, video_status::queued, video_status::processing, video_status::ready,
                 video_status::failed})
    EXPECT_EQ(parse_video_status(status_name(s)), s);
  EXPECT_EQ(status_name(video_status::processing), "processing");
  EXPECT_EQ(parse_video_status("Ready"), std::nullopt);
  EXPECT_EQ(parse_video_status(""), std::nullopt);
}

TEST(job_state, names_round_trip_and_unknown_names_are_refused) {
  for (auto s : {job_state::queued, job_state::running, job_state::succeeded, job_state::failed, job_state::cancelled})
    EXPECT_EQ(parse_job_state(state_name(s)), s);
  EXPECT_EQ(state_name(job_state::succeeded), "succeeded");
  EXPECT_EQ(parse_job_state("done"), std::nullopt);
}
