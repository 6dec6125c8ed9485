// The queries of the reconciliation sweep, on SQLite and PostgreSQL.
#include "db/jobs.hpp"
#include "db/migrations.hpp"
#include "db/uploads.hpp"
#include "db/videos.hpp"

#include "support/common.hpp"
#include "support/db_fixture.hpp"
#include "support/postgres.hpp"

#include <gtest/gtest.h>

using namespace reel::db;
namespace model = reel::model;
using reel::test::k_now;

namespace {

void add_video(database& d, const std::string& id) {
  model::video v;
  v.id = id;
  v.organization_id = "org1";
  v.title = id;
  v.original_filename = "clip.mp4";
  v.content_type = "video/mp4";
  v.size_bytes = 10;
  v.created_at = v.updated_at = k_now;
  d.transact(true, [&](transaction& s) { insert_video(s, v); });
}

void add_job(database& d, const std::string& id, const std::string& video_id, model::job_state state) {
  model::job j;
  j.id = id;
  j.kind = "process_video";
  j.organization_id = "org1";
  j.video_id = video_id;
  j.state = state;
  j.max_attempts = 3;
  j.run_after = j.created_at = j.updated_at = k_now;
  d.transact(true, [&](transaction& s) { insert_job(s, j); });
}

// The same checks on either backend.
void check_queries(database& d) {
  d.transact(true, [](transaction& s) {
    s.exec("INSERT INTO organizations (id, name, created_at) VALUES ('org1', 'O', ?)", {k_now});
  });
  for (const char* id : {"v5", "v1", "v3", "v2", "v4"}) add_video(d, id);

  // Paging in id order.
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    std::vector<model::video> page;
    d.transact(false, [&](transaction& s) { page = videos_after(s, after, 2); });
    for (const auto& v : page) seen.push_back(v.id);
    if (page.size() < 2) break;
    after = page.back().id;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"v1", "v2", "v3", "v4", "v5"}));

  // Only the video's queued and running jobs fail.
  add_job(d, "j1", "v1", model::job_state::queued);
  add_job(d, "j2", "v1", model::job_state::succeeded);
  add_job(d, "j3", "v2", model::job_state::queued);
  std::int64_t failed = 0;
  d.transact(true, [&](transaction& s) { failed = fail_active_jobs(s, "v1", "gone", k_now); });
  EXPECT_EQ(failed, 1);
  std::optional<model::job> j1, j2, j3;
  d.transact(false, [&](transaction& s) {
    j1 = find_job(s, "j1");
    j2 = find_job(s, "j2");
    j3 = find_job(s, "j3");
  });
  EXPECT_EQ(j1->state, model::job_state::failed);
  EXPECT_EQ(j1->last_error, "gone");
  EXPECT_EQ(j2->state, model::job_state::succeeded);
  EXPECT_EQ(j3->state, model::job_state::queued);

  // A video's upload is forgotten; another's stays.
  for (const char* v : {"v1", "v2"}) {
    model::upload u;
    u.id = std::string("u-") + v;
    u.organization_id = "org1";
    u.video_id = v;
    u.length = 10;
    u.created_at = u.updated_at = u.expires_at = k_now;
    d.transact(true, [&](transaction& s) { insert_upload(s, u); });
  }
  d.transact(true, [](transaction& s) { delete_uploads_of_video(s, "v1"); });
  bool first = true, second = false;
  d.transact(false, [&](transaction& s) {
    first = find_upload(s, "u-v1").has_value();
    second = find_upload(s, "u-v2").has_value();
  });
  EXPECT_FALSE(first);
  EXPECT_TRUE(second);
}

class reconciliation_queries : public reel::test::db_fixture {};

}  // namespace

TEST_F(reconciliation_queries, page_fail_jobs_and_forget_uploads_on_sqlite) { check_queries(*db_); }

TEST(reconciliation_queries_postgres, page_fail_jobs_and_forget_uploads_on_postgres) {
  REEL_REQUIRE_POSTGRES();
  auto d = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
  migrate(*d, k_now);
  check_queries(*d);
}
