// The views repository on both backends: one view per viewer per video per
// window, the per-day counts, forgetting, and the cascade from the video.
#include "db/views.hpp"

#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "db/videos.hpp"

#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

using namespace reel::db;
namespace model = reel::model;

namespace {

// "2026-01-<day>T<hh:mm>:00.000Z"
std::string views_at(int day, int hour, int minute) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "2026-01-%02dT%02d:%02d:00.000Z", day, hour, minute);
  return buf;
}
std::string day_of(const std::string& time) { return time.substr(0, 10); }

class views_repository_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 4);
    } else {
      dir_ = reel::test::scratch_path("reel-views-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 4);
    }
    migrate(*db_, "2026-01-01T00:00:00.000Z");
    db_->transact(true, [](transaction& s) {
      insert_organization(s, {"o1", "Org", views_at(1, 0, 0)});
      for (const char* id : {"v1", "v2"}) {
        model::video v;
        v.id = id;
        v.organization_id = "o1";
        v.title = id;
        v.original_filename = "a.mp4";
        v.content_type = "video/mp4";
        v.created_at = v.updated_at = views_at(1, 0, 0);
        insert_video(s, v);
      }
    });
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Counts a view at `now` with a 30-minute window.
  bool count(const std::string& video, const std::string& viewer, int day, int hour, int minute) {
    std::string now = views_at(day, hour, minute);
    int back = hour * 60 + minute - 30;  // the window starts 30 minutes earlier (the same day, in these tests)
    std::string again_after = back >= 0 ? views_at(day, back / 60, back % 60) : views_at(day - 1, 23, 60 + back);
    bool counted = false;
    db_->transact(true, [&](transaction& s) { counted = count_view(s, video, viewer, now, again_after, day_of(now)); });
    return counted;
  }
  std::int64_t total(const std::string& video) {
    std::int64_t n = -1;
    db_->transact(false, [&](transaction& s) { n = find_video_any_org(s, video)->view_count; });
    return n;
  }
  std::vector<std::pair<std::string, std::int64_t>> days(const std::string& video) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    db_->transact(false, [&](transaction& s) { out = view_days(s, video, "2025-01-01"); });
    return out;
  }
  std::int64_t rows(const std::string& sql) {
    std::int64_t n = -1;
    db_->transact(false, [&](transaction& s) { n = s.query_one(sql)->int64(0); });
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<database> db_;
};

INSTANTIATE_TEST_SUITE_P(backends, views_repository_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

using day_counts = std::vector<std::pair<std::string, std::int64_t>>;

}  // namespace

TEST_P(views_repository_test, the_first_view_counts_and_a_second_within_the_window_does_not) {
  EXPECT_TRUE(count("v1", "a:x", 2, 10, 0));
  EXPECT_FALSE(count("v1", "a:x", 2, 10, 1));
  EXPECT_FALSE(count("v1", "a:x", 2, 10, 29));
  EXPECT_EQ(total("v1"), 1);
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-02", 1}}));
  EXPECT_EQ(total("v2"), 0);
}

TEST_P(views_repository_test, after_the_window_the_same_viewer_counts_again) {
  EXPECT_TRUE(count("v1", "u:ann", 2, 10, 0));
  EXPECT_FALSE(count("v1", "u:ann", 2, 10, 29));
  EXPECT_TRUE(count("v1", "u:ann", 2, 10, 30));   // 30 minutes after the counted one
  EXPECT_FALSE(count("v1", "u:ann", 2, 10, 45));  // the window starts again from 10:30
  EXPECT_TRUE(count("v1", "u:ann", 2, 11, 0));
  EXPECT_EQ(total("v1"), 3);
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-02", 3}}));
}

TEST_P(views_repository_test, two_viewers_count_twice_and_one_viewer_counts_for_each_video) {
  EXPECT_TRUE(count("v1", "a:x", 2, 10, 0));
  EXPECT_TRUE(count("v1", "a:y", 2, 10, 0));
  EXPECT_TRUE(count("v1", "u:ann", 2, 10, 5));
  EXPECT_TRUE(count("v2", "a:x", 2, 10, 5));
  EXPECT_EQ(total("v1"), 3);
  EXPECT_EQ(total("v2"), 1);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers"), 4);
}

TEST_P(views_repository_test, views_are_bucketed_by_the_day_of_the_view) {
  EXPECT_TRUE(count("v1", "a:x", 2, 23, 50));
  EXPECT_TRUE(count("v1", "a:y", 2, 23, 59));
  EXPECT_FALSE(count("v1", "a:x", 3, 0, 10));  // past midnight, still within x's window
  EXPECT_TRUE(count("v1", "a:z", 3, 0, 10));
  EXPECT_TRUE(count("v1", "a:x", 5, 12, 0));
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-02", 2}, {"2026-01-03", 1}, {"2026-01-05", 1}}));
  day_counts from_the_third;
  db_->transact(false, [&](transaction& s) { from_the_third = view_days(s, "v1", "2026-01-03"); });
  EXPECT_EQ(from_the_third, (day_counts{{"2026-01-03", 1}, {"2026-01-05", 1}}));
  EXPECT_EQ(total("v1"), 4);
}

TEST_P(views_repository_test, forgetting_viewers_removes_only_those_counted_before_the_cutoff) {
  EXPECT_TRUE(count("v1", "a:old", 2, 9, 0));
  EXPECT_TRUE(count("v1", "a:new", 2, 9, 40));
  std::int64_t gone = 0;
  db_->transact(true, [&](transaction& s) { gone = forget_viewers(s, views_at(2, 9, 30)); });
  EXPECT_EQ(gone, 1);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers WHERE viewer = 'a:new'"), 1);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers"), 1);
  // The counts stay; the viewer still within the window still does not count.
  EXPECT_EQ(total("v1"), 2);
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-02", 2}}));
  EXPECT_FALSE(count("v1", "a:new", 2, 10, 0));
}

TEST_P(views_repository_test, forgetting_days_removes_only_the_days_before_the_first_kept) {
  EXPECT_TRUE(count("v1", "a:x", 2, 9, 0));
  EXPECT_TRUE(count("v1", "a:x", 3, 9, 0));
  EXPECT_TRUE(count("v2", "a:x", 4, 9, 0));
  std::int64_t gone = 0;
  db_->transact(true, [&](transaction& s) { gone = forget_view_days(s, "2026-01-03"); });
  EXPECT_EQ(gone, 1);
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-03", 1}}));
  EXPECT_EQ(days("v2"), (day_counts{{"2026-01-04", 1}}));
  EXPECT_EQ(total("v1"), 2);  // the total is not a sum of the days kept
}

TEST_P(views_repository_test, deleting_the_video_deletes_its_viewers_and_days) {
  EXPECT_TRUE(count("v1", "a:x", 2, 9, 0));
  EXPECT_TRUE(count("v1", "a:y", 3, 9, 0));
  EXPECT_TRUE(count("v2", "a:x", 3, 9, 0));
  bool deleted = false;
  db_->transact(true, [&](transaction& s) { deleted = delete_video(s, "o1", "v1"); });
  ASSERT_TRUE(deleted);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers WHERE video_id = 'v1'"), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_view_days WHERE video_id = 'v1'"), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers"), 1);
  EXPECT_EQ(days("v2"), (day_counts{{"2026-01-03", 1}}));
}

TEST_P(views_repository_test, a_play_of_a_video_that_is_gone_counts_nothing) {
  EXPECT_FALSE(count("nope", "a:x", 2, 9, 0));
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_viewers"), 0);
  EXPECT_EQ(rows("SELECT COUNT(*) FROM video_view_days"), 0);
}

// Plays of one viewer in transactions that run at once (PostgreSQL runs
// them side by side): exactly one counts.
TEST_P(views_repository_test, concurrent_plays_of_one_viewer_count_once) {
  for (int round = 0; round < 5; ++round) {
    std::string viewer = "a:racer" + std::to_string(round);
    std::atomic<int> ready{0}, counted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        ++ready;
        while (ready.load() < 4) std::this_thread::yield();
        if (count("v1", viewer, 2, 10, 0)) ++counted;
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(counted.load(), 1) << viewer;
  }
  EXPECT_EQ(total("v1"), 5);
  EXPECT_EQ(days("v1"), (day_counts{{"2026-01-02", 5}}));
}
