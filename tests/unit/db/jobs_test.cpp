#include "db/jobs.hpp"

#include "support/db_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace reel::db;
namespace model = reel::model;

namespace {

class jobs_test : public reel::test::db_fixture {
 protected:
  // A queued job of `org`, enqueued at second `at` of the test's clock.
  void enqueue(const std::string& id, const std::string& org, int at) {
    job j;
    j.id = id;
    j.kind = "process_video";
    j.organization_id = org;
    j.run_after = j.created_at = j.updated_at = time(at);
    db_->transact(true, [&](transaction& s) { insert_job(s, j); });
  }
  std::optional<job> claim(const std::string& owner, int at, const std::string& after_org = {}) {
    std::optional<job> out;
    db_->transact(true, [&](transaction& s) { out = claim_job(s, owner, time(at), time(at + 30), after_org); });
    return out;
  }
  void finish(const job& j, int at) {
    db_->transact(true, [&](transaction& s) {
      finish_job(s, j.id, *j.lease_owner, model::job_state::succeeded, std::nullopt, time(at));
    });
  }
  // One worker: claims, runs (1 s) and finishes jobs until none is left,
  // going round the organizations like jobs::processor; returns the order.
  std::vector<std::string> drain(int from) {
    std::vector<std::string> order;
    std::string last_org;
    for (int t = from; auto j = claim("w", t, last_org); t += 1) {
      order.push_back(j->id);
      last_org = j->organization_id;
      finish(*j, t + 1);
    }
    return order;
  }
  static std::string time(int second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02d.000Z", second / 3600, second / 60 % 60, second % 60);
    return buf;
  }
};

}  // namespace

// Security issue, item 4: the queue was one FIFO, so one organization's
// burst held every other organization's uploads behind it.
TEST_F(jobs_test, a_burst_of_one_organization_does_not_starve_another_with_one_worker) {
  for (int i = 1; i <= 5; ++i) enqueue("a" + std::to_string(i), "org-burst", i);
  auto first = claim("w", 10);  // the worker took A's first job before B uploaded
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, "a1");
  enqueue("b1", "org-another", 11);  // sorts before org-burst: the round wraps around
  finish(*first, 12);
  std::string last_org = first->organization_id;
  auto second = claim("w", 13, last_org);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, "b1");
  finish(*second, 14);
  EXPECT_EQ(drain(15), (std::vector<std::string>{"a2", "a3", "a4", "a5"}));
}

TEST_F(jobs_test, claims_go_round_the_organizations_oldest_job_first_within_each) {
  enqueue("a1", "org-a", 1);
  enqueue("a2", "org-a", 2);
  enqueue("a3", "org-a", 3);
  enqueue("b1", "org-b", 4);
  enqueue("b2", "org-b", 5);
  enqueue("c1", "org-c", 6);
  EXPECT_EQ(drain(10), (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3"}));
}

TEST_F(jobs_test, the_organization_with_fewest_running_jobs_goes_first) {
  enqueue("a1", "org-a", 1);
  enqueue("a2", "org-a", 2);
  enqueue("b1", "org-b", 3);
  auto one = claim("w1", 10);
  ASSERT_EQ(one->id, "a1");
  // The round would come back to org-a after org-b, but org-a already runs a job.
  auto two = claim("w2", 11, "org-b");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->id, "b1");
  auto three = claim("w3", 12, "org-b");
  ASSERT_TRUE(three);
  EXPECT_EQ(three->id, "a2");
  EXPECT_FALSE(claim("w4", 13));
}

TEST_F(jobs_test, delayed_jobs_wait_and_jobs_of_dead_workers_are_taken_over) {
  job later;
  later.id = "later";
  later.kind = "process_video";
  later.organization_id = "org-a";
  later.created_at = later.updated_at = time(1);
  later.run_after = time(100);
  db_->transact(true, [&](transaction& s) { insert_job(s, later); });
  enqueue("now", "org-b", 2);
  auto j = claim("dies", 10);  // lease until 40
  ASSERT_EQ(j->id, "now");
  EXPECT_FALSE(claim("w", 20));          // "later" is not due; "now" is leased
  auto again = claim("w", 41, "org-b");  // the lease ran out: taken over, not another attempt
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, "now");
  EXPECT_EQ(again->attempts, 1);
  EXPECT_EQ(again->takeovers, 1);
  EXPECT_EQ(again->lease_owner, "w");
  finish(*again, 42);
  EXPECT_EQ(claim("w", 100)->id, "later");
}
