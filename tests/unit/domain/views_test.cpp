// Counting views on the real database without HTTP, with a clock the test
// moves: who a viewer is, the 30-minute window, midnight, the bound on
// writes in flight, the 30 days of stats and pruning.
#include "domain/views.hpp"

#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/videos.hpp"
#include "support/db_fixture.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

using namespace reel;
using namespace std::chrono_literals;

namespace {

sys_time time_at(const std::string& iso) { return *from_iso8601(iso); }

class views_test : public test::db_fixture {
 protected:
  void SetUp() override {
    db_fixture::SetUp();
    gateway_.emplace(pool_, *db_);
    make_views({});
    write([](db::transaction& s) {
      db::insert_organization(s, {"o1", "Org", "2026-01-01T00:00:00.000Z", "org"});
      db::insert_organization(s, {"o2", "Other", "2026-01-01T00:00:00.000Z", "other"});
      model::video v;
      v.id = "v1";
      v.organization_id = "o1";
      v.title = "Clip";
      v.original_filename = "a.mp4";
      v.content_type = "video/mp4";
      v.created_at = v.updated_at = "2026-01-01T00:00:00.000Z";
      db::insert_video(s, v);
    });
  }
  void make_views(domain::view_settings settings) {
    views_.emplace(*gateway_, io_.get_executor(), clock_, "the server secret", settings);
  }
  // Runs what record() started, until nothing is left.
  void settle() {
    io_.restart();
    io_.run();
  }
  std::int64_t total() {
    std::int64_t n = -1;
    db_->transact(false, [&](db::transaction& s) { n = db::find_video_any_org(s, "v1")->view_count; });
    return n;
  }
  domain::play_source anonymous(std::string_view address, std::string_view agent) { return {nullptr, address, agent}; }
  model::principal user(const std::string& id) {
    model::principal p;
    p.user.id = id;
    return p;
  }

  worker_pool pool_{1};
  manual_clock clock_{time_at("2026-03-01T10:00:00.000Z")};
  boost::asio::io_context io_;
  std::optional<db::gateway> gateway_;
  std::optional<domain::views> views_;
};

}  // namespace

TEST_F(views_test, a_signed_in_viewer_is_their_user_id_and_anyone_else_a_daily_salted_hash) {
  auto ann = user("ann");
  EXPECT_EQ(views_->viewer_of({&ann, "10.0.0.1", "Firefox"}), "u:ann");
  std::string x = views_->viewer_of(anonymous("10.0.0.1", "Firefox"));
  EXPECT_TRUE(x.starts_with("a:"));
  EXPECT_EQ(x.find("10.0.0.1"), std::string::npos);
  EXPECT_EQ(x.find("Firefox"), std::string::npos);
  EXPECT_EQ(views_->viewer_of(anonymous("10.0.0.1", "Firefox")), x);
  EXPECT_NE(views_->viewer_of(anonymous("10.0.0.1", "Chrome")), x);
  EXPECT_NE(views_->viewer_of(anonymous("10.0.0.2", "Firefox")), x);
  // Another server's secret, or the next UTC day: another salt.
  domain::views elsewhere(*gateway_, io_.get_executor(), clock_, "another secret");
  EXPECT_NE(elsewhere.viewer_of(anonymous("10.0.0.1", "Firefox")), x);
  clock_.advance(13h + 59min);  // 23:59 the same day
  EXPECT_EQ(views_->viewer_of(anonymous("10.0.0.1", "Firefox")), x);
  clock_.advance(1min);  // midnight UTC
  EXPECT_NE(views_->viewer_of(anonymous("10.0.0.1", "Firefox")), x);
  EXPECT_EQ(views_->viewer_of({&ann, "10.0.0.1", "Firefox"}), "u:ann");
}

TEST_F(views_test, a_viewer_counts_once_per_30_minutes_in_the_background) {
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  EXPECT_EQ(views_->writes_in_flight(), 1u);
  EXPECT_EQ(total(), 0);  // not yet: record() does not wait
  settle();
  EXPECT_EQ(total(), 1);
  EXPECT_EQ(views_->counted(), 1u);
  clock_.advance(29min);
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  EXPECT_EQ(views_->writes_in_flight(), 0u);  // remembered: no write at all
  settle();
  EXPECT_EQ(total(), 1);
  clock_.advance(1min);
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  views_->record("v1", anonymous("10.0.0.1", "Chrome"));
  auto ann = user("ann");
  views_->record("v1", {&ann, "10.0.0.1", "Firefox"});
  settle();
  EXPECT_EQ(total(), 4);
  EXPECT_EQ(views_->counted(), 4u);
  EXPECT_EQ(views_->failed(), 0u);
}

TEST_F(views_test, another_process_counting_first_still_stops_the_second_count) {
  // Two services on one database (two nodes): the second does not remember
  // the viewer, the database does.
  domain::views other(*gateway_, io_.get_executor(), clock_, "the server secret");
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  settle();
  other.record("v1", anonymous("10.0.0.1", "Firefox"));
  EXPECT_EQ(other.writes_in_flight(), 1u);
  settle();
  EXPECT_EQ(total(), 1);
  EXPECT_EQ(other.counted(), 0u);
}

TEST_F(views_test, plays_beyond_the_writes_in_flight_are_dropped_not_queued) {
  make_views({.max_writes_in_flight = 2});
  for (int i = 0; i < 5; ++i) views_->record("v1", anonymous("10.0.0." + std::to_string(i), "Firefox"));
  EXPECT_EQ(views_->writes_in_flight(), 2u);
  EXPECT_EQ(views_->dropped(), 3u);
  settle();
  EXPECT_EQ(views_->writes_in_flight(), 0u);
  EXPECT_EQ(total(), 2);
  views_->record("v1", anonymous("10.0.0.9", "Firefox"));  // room again
  settle();
  EXPECT_EQ(total(), 3);
}

TEST_F(views_test, a_failed_write_is_logged_and_counted_and_does_not_throw) {
  write([](db::transaction& s) { s.exec("DROP TABLE video_view_days"); });
  EXPECT_NO_THROW(views_->record("v1", anonymous("10.0.0.1", "Firefox")));
  EXPECT_NO_THROW(settle());
  EXPECT_EQ(views_->failed(), 1u);
  EXPECT_EQ(views_->writes_in_flight(), 0u);
  EXPECT_EQ(total(), 0);  // one transaction: nothing of it stayed
}

TEST_F(views_test, stats_are_30_days_oldest_first_ending_today_with_zeros) {
  auto count_at = [&](const std::string& iso, const std::string& viewer) {
    return test::run(views_->count("v1", viewer, time_at(iso)));
  };
  EXPECT_TRUE(count_at("2026-01-30T12:00:00.000Z", "a:1"));  // 31 days ago: not shown, in the total
  EXPECT_TRUE(count_at("2026-01-31T00:00:00.000Z", "a:1"));  // the first day shown
  EXPECT_TRUE(count_at("2026-02-28T23:59:00.000Z", "a:2"));
  EXPECT_TRUE(count_at("2026-03-01T00:00:00.000Z", "a:3"));
  EXPECT_TRUE(count_at("2026-03-01T09:00:00.000Z", "a:3"));
  auto s = test::run(views_->stats({"o1", "Org", model::role::viewer}, "v1"));
  EXPECT_EQ(s.video_id, "v1");
  EXPECT_EQ(s.view_count, 5);
  ASSERT_EQ(s.days.size(), 30u);
  EXPECT_EQ(s.days.front().date, "2026-01-31");
  EXPECT_EQ(s.days.front().views, 1);
  EXPECT_EQ(s.days[1].date, "2026-02-01");
  EXPECT_EQ(s.days[1].views, 0);
  EXPECT_EQ(s.days[28].date, "2026-02-28");
  EXPECT_EQ(s.days[28].views, 1);
  EXPECT_EQ(s.days.back().date, "2026-03-01");
  EXPECT_EQ(s.days.back().views, 2);
  std::int64_t sum = 0;
  for (const auto& d : s.days) sum += d.views;
  EXPECT_EQ(sum, 4);
  // After midnight, today is a new day with no views yet.
  clock_.advance(14h);
  s = test::run(views_->stats({"o1", "Org", model::role::viewer}, "v1"));
  EXPECT_EQ(s.days.back().date, "2026-03-02");
  EXPECT_EQ(s.days.back().views, 0);
  EXPECT_EQ(s.days.front().date, "2026-02-01");
}

TEST_F(views_test, a_view_just_before_and_one_after_midnight_go_to_their_days) {
  clock_.advance(13h + 50min);  // 23:50 UTC
  auto ann = user("ann");
  views_->record("v1", {&ann, "10.0.0.1", "Firefox"});
  settle();
  clock_.advance(20min);  // 00:10 the next day: within ann's window
  views_->record("v1", {&ann, "10.0.0.1", "Firefox"});
  views_->record("v1", {nullptr, "10.0.0.2", "Firefox"});
  settle();
  auto s = test::run(views_->stats({"o1", "Org", model::role::viewer}, "v1"));
  EXPECT_EQ(s.view_count, 2);
  EXPECT_EQ(s.days[28].date, "2026-03-01");
  EXPECT_EQ(s.days[28].views, 1);
  EXPECT_EQ(s.days[29].date, "2026-03-02");
  EXPECT_EQ(s.days[29].views, 1);
}

TEST_F(views_test, stats_of_another_organizations_video_or_an_unknown_one_are_not_found) {
  auto refusal = [&](const model::org_scope& in, const std::string& id) {
    try {
      test::run(views_->stats(in, id));
    } catch (const error& e) {
      return e.code();
    }
    return errc::internal;
  };
  EXPECT_EQ(refusal({"o2", "Other", model::role::owner}, "v1"), errc::not_found);
  EXPECT_EQ(refusal({"o1", "Org", model::role::owner}, "nope"), errc::not_found);
}

TEST_F(views_test, pruning_forgets_viewers_past_the_window_and_days_past_the_kept_ones) {
  EXPECT_TRUE(test::run(views_->count("v1", "a:old", time_at("2026-03-01T09:00:00.000Z"))));
  EXPECT_TRUE(test::run(views_->count("v1", "a:new", time_at("2026-03-01T09:45:00.000Z"))));
  EXPECT_TRUE(test::run(views_->count("v1", "a:ancient", time_at("2025-01-01T09:00:00.000Z"))));
  EXPECT_EQ(test::run(views_->prune()), 3);  // a:old and a:ancient, and the day 2025-01-01 (past 400 days)
  std::int64_t viewers = -1, days = -1;
  db_->transact(false, [&](db::transaction& s) {
    viewers = s.query_one("SELECT COUNT(*) FROM video_viewers")->int64(0);
    days = s.query_one("SELECT COUNT(*) FROM video_view_days")->int64(0);
  });
  EXPECT_EQ(viewers, 1);
  EXPECT_EQ(days, 1);
  EXPECT_EQ(total(), 3);
}

TEST_F(views_test, the_viewers_remembered_are_bounded_and_the_database_still_decides) {
  make_views({.remembered_viewers = 1});
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  settle();
  views_->record("v1", anonymous("10.0.0.2", "Firefox"));  // the memory is full: it starts again
  settle();
  views_->record("v1", anonymous("10.0.0.1", "Firefox"));
  EXPECT_EQ(views_->writes_in_flight(), 1u);  // forgotten here, so asked of the database
  views_->record("v1", anonymous("10.0.0.2", "Firefox"));
  EXPECT_EQ(views_->writes_in_flight(), 1u);  // remembered
  settle();
  EXPECT_EQ(total(), 2);
  EXPECT_EQ(views_->counted(), 2u);
}
