// What counts as an attempt, on both backends: claims of queued jobs do;
// takeovers of dead workers' jobs, shutdowns and resource failures do not,
// and a restarted identity reclaims its own jobs at once.
#include "db/jobs.hpp"
#include "db/migrations.hpp"

#include "support/db_fixture.hpp"
#include "support/postgres.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

using namespace reel::db;
namespace model = reel::model;

namespace {

class job_accounting_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("reel-accounting-" + std::to_string(::getpid()));
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 2);
    }
    migrate(*db_, at(0));
    db_->transact(true, [&](transaction& s) {
      s.exec("INSERT INTO organizations (id, name, created_at) VALUES ('org', 'org', ?)", {at(0)});
      for (const char* id : {"v1", "v2", "v3"})
        s.exec(
            "INSERT INTO videos (id, organization_id, title, status, original_filename, content_type, size_bytes, "
            "created_at, updated_at) VALUES (?, 'org', 't', 'processing', 'f', 'video/mp4', 1, ?, ?)",
            {std::string(id), at(0), at(0)});
    });
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static std::string at(int second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02d.000Z", second / 3600, second / 60 % 60, second % 60);
    return buf;
  }
  void enqueue(const std::string& id, const std::string& video) {
    job j;
    j.id = id;
    j.kind = "process_video";
    j.organization_id = "org";
    j.video_id = video;
    j.run_after = j.created_at = j.updated_at = at(1);
    db_->transact(true, [&](transaction& s) { insert_job(s, j); });
  }
  std::optional<job> claim(const std::string& owner, int t) {
    std::optional<job> out;
    db_->transact(true, [&](transaction& s) { out = claim_job(s, owner, at(t), at(t + 30)); });
    return out;
  }
  bool requeue(const job& j, int t, requeue_reason why) {
    bool out = false;
    db_->transact(true, [&](transaction& s) { out = requeue_job(s, j.id, *j.lease_owner, "x", at(t), at(t), why); });
    return out;
  }
  job find(const std::string& id) {
    std::optional<job> out;
    db_->transact(false, [&](transaction& s) { out = find_job(s, id); });
    return *out;
  }
  std::string video_status(const std::string& id) {
    std::string out;
    db_->transact(false,
                  [&](transaction& s) { out = s.query_one("SELECT status FROM videos WHERE id = ?", {id})->text(0); });
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<database> db_;
};

}  // namespace

TEST_P(job_accounting_test, shutdowns_give_the_attempt_back_so_rolling_restarts_never_use_up_the_budget) {
  enqueue("j", "v1");
  for (int restart = 0; restart < 5; ++restart) {
    auto j = claim("node/w0/run" + std::to_string(restart), 10 + restart);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->attempts, 1) << "restart " << restart;
    ASSERT_TRUE(requeue(*j, 10 + restart, requeue_reason::shutdown));
    EXPECT_EQ(find("j").attempts, 0);
  }
  // A real failure is counted, and stays counted.
  auto j = claim("node/w0/run9", 20);
  ASSERT_TRUE(requeue(*j, 21, requeue_reason::retry));
  EXPECT_EQ(find("j").attempts, 1);
  EXPECT_EQ(claim("node/w0/run9", 22)->attempts, 2);
}

TEST_P(job_accounting_test, a_takeover_counts_a_takeover_not_an_attempt) {
  enqueue("j", "v1");
  auto first = claim("a/w0/x", 10);  // lease until 40
  ASSERT_EQ(first->attempts, 1);
  EXPECT_EQ(first->takeovers, 0);
  EXPECT_FALSE(claim("b/w0/y", 20));  // still leased
  auto taken = claim("b/w0/y", 41);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->attempts, 1);
  EXPECT_EQ(taken->takeovers, 1);
  auto again = claim("c/w0/z", 72);
  EXPECT_EQ(again->attempts, 1);
  EXPECT_EQ(again->takeovers, 2);
}

TEST_P(job_accounting_test, resource_failures_give_the_attempt_back_and_count_a_resource_retry) {
  enqueue("j", "v1");
  auto j = claim("a/w0/x", 10);
  ASSERT_TRUE(requeue(*j, 100, requeue_reason::resource));
  auto stored = find("j");
  EXPECT_EQ(stored.state, model::job_state::queued);
  EXPECT_EQ(stored.attempts, 0);
  EXPECT_EQ(stored.resource_retries, 1);
  EXPECT_EQ(stored.run_after, at(100));
  EXPECT_FALSE(claim("a/w0/x", 99));  // not before its time
  auto next = claim("a/w0/x", 100);
  EXPECT_EQ(next->attempts, 1);
  EXPECT_EQ(next->resource_retries, 1);
}

TEST_P(job_accounting_test, a_restarted_identity_reclaims_its_own_jobs_at_once_and_no_one_elses) {
  enqueue("mine", "v1");
  enqueue("mine_too", "v2");
  enqueue("other", "v3");
  ASSERT_TRUE(claim("n_1/w0/old", 10));
  ASSERT_TRUE(claim("n_1/w0/old", 10));
  ASSERT_TRUE(claim("nx1/w0/live", 10));  // `_` is not a wildcard: another node's
  std::vector<std::string> reclaimed;
  db_->transact(true, [&](transaction& s) { reclaimed = reclaim_jobs_of(s, "n_1/w0/", at(11)); });
  std::sort(reclaimed.begin(), reclaimed.end());
  EXPECT_EQ(reclaimed, (std::vector<std::string>{"mine", "mine_too"}));
  for (const char* id : {"mine", "mine_too"}) {
    auto j = find(id);
    EXPECT_EQ(j.state, model::job_state::queued);
    EXPECT_EQ(j.attempts, 0) << id;  // given back: the dead run did not fail
    EXPECT_EQ(j.takeovers, 1) << id;
    EXPECT_FALSE(j.lease_owner);
  }
  EXPECT_EQ(video_status("v1"), "queued");
  EXPECT_EQ(find("other").state, model::job_state::running);
  EXPECT_EQ(video_status("v3"), "processing");
  // At once, long before the 30 s lease would have run out.
  auto j = claim("n_1/w0/new", 12);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->attempts, 1);
  EXPECT_EQ(j->takeovers, 1);
}

INSTANTIATE_TEST_SUITE_P(backends, job_accounting_test, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
