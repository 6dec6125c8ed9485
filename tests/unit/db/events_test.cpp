// The events outbox (db/events.hpp) on both backends: append, tail by id,
// prune, where a tail starts; and that a tail reading while several
// transactions append at once misses no row (ids in commit order).
#include "db/events.hpp"
#include "db/migrations.hpp"

#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

using namespace reel::db;
namespace fs = std::filesystem;

namespace {

outbox_event ev(const std::string& org, const std::string& name, const std::string& payload) {
  return {0, org, name, payload, {}};
}

class events_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 6);
    } else {
      dir_ = reel::test::scratch_path("reel-events-");
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      db_ = open_database("", dir_.string(), 6);
    }
    migrate(*db_, "2026-01-01T00:00:00.000Z");
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void append(const std::vector<outbox_event>& events, const std::string& now) {
    db_->transact(true, [&](transaction& s) {
      append_order(s);
      for (const auto& e : events) append_event(s, e, now);
    });
  }
  std::vector<outbox_event> after(std::int64_t id, std::int64_t limit = 100) {
    std::vector<outbox_event> out;
    db_->transact(false, [&](transaction& s) { out = events_after(s, id, limit); });
    return out;
  }
  std::int64_t last() {
    std::int64_t out = -1;
    db_->transact(false, [&](transaction& s) { out = last_event_id(s); });
    return out;
  }

  fs::path dir_;
  std::unique_ptr<database> db_;
};

TEST_P(events_test, appended_events_are_read_back_in_order_after_an_id) {
  EXPECT_EQ(last(), 0);
  EXPECT_TRUE(after(0).empty());
  append({ev("org-a", "video:progress", R"({"id":"v1","percent":10})"),
          ev("org-b", "video:ready", R"({"video":{"id":"v2"}})")},
         "2026-01-01T00:00:01.000Z");
  append({ev("org-a", "video:failed", R"({"id":"v1","error":"no"})")}, "2026-01-01T00:00:02.000Z");
  auto all = after(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_LT(all[0].id, all[1].id);
  EXPECT_LT(all[1].id, all[2].id);
  EXPECT_EQ(all[0].organization_id, "org-a");
  EXPECT_EQ(all[0].name, "video:progress");
  EXPECT_EQ(all[0].payload, R"({"id":"v1","percent":10})");
  EXPECT_EQ(all[0].created_at, "2026-01-01T00:00:01.000Z");
  EXPECT_EQ(all[2].name, "video:failed");
  EXPECT_EQ(last(), all[2].id);
  auto rest = after(all[0].id);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].id, all[1].id);
  EXPECT_EQ(after(all[0].id, 1).size(), 1u);  // the limit
  EXPECT_TRUE(after(all[2].id).empty());
}

TEST_P(events_test, pruning_removes_only_older_rows_and_ids_never_come_back) {
  append({ev("o", "video:progress", "{}"), ev("o", "video:progress", "{}")}, "2026-01-01T00:00:01.000Z");
  append({ev("o", "video:ready", "{}")}, "2026-01-01T00:05:00.000Z");
  std::int64_t newest = last();
  std::int64_t removed = 0;
  db_->transact(true, [&](transaction& s) { removed = prune_events(s, "2026-01-01T00:04:00.000Z"); });
  EXPECT_EQ(removed, 2);
  auto left = after(0);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "video:ready");
  // Every row gone: a tail that read up to `newest` still sees the next
  // row, whose id is larger (SQLite would reuse ids without AUTOINCREMENT).
  db_->transact(true, [&](transaction& s) { prune_events(s, "2026-01-02T00:00:00.000Z"); });
  EXPECT_TRUE(after(0).empty());
  append({ev("o", "video:created", "{}")}, "2026-01-02T00:00:01.000Z");
  auto next = after(newest);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_GT(next[0].id, newest);
}

TEST_P(events_test, an_append_that_rolls_back_leaves_nothing) {
  EXPECT_THROW(db_->transact(true,
                             [&](transaction& s) {
                               append_order(s);
                               append_event(s, ev("o", "video:ready", "{}"), "2026-01-01T00:00:01.000Z");
                               throw std::runtime_error("the caller failed");
                             }),
               std::runtime_error);
  EXPECT_TRUE(after(0).empty());
}

// Writers in several threads (several worker processes) append while a tail
// reads by id, as an API node does: it must see every row exactly once. On
// PostgreSQL, without append_order's lock, a row whose transaction commits
// after one with a larger id would be passed over.
TEST_P(events_test, a_tail_misses_nothing_while_writers_append_at_once) {
  constexpr int writers = 4, batches = 60;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      for (int b = 0; b < batches; ++b)
        append({ev("o", "w" + std::to_string(w), std::to_string(b)), ev("o", "w" + std::to_string(w), "x")},
               "2026-01-01T00:00:01.000Z");
      ++done;
    });
  std::multiset<std::int64_t> seen;
  std::int64_t position = 0;
  auto read_some = [&] {
    for (const auto& e : after(position, 7)) {
      EXPECT_GT(e.id, position);
      position = e.id;
      seen.insert(e.id);
    }
  };
  while (done < writers) read_some();
  for (auto& t : threads) t.join();
  for (int i = 0; i < 100; ++i) read_some();
  std::set<std::int64_t> all;
  for (const auto& e : after(0, 100'000)) all.insert(e.id);
  EXPECT_EQ(all.size(), std::size_t(writers * batches * 2));
  EXPECT_EQ(seen.size(), all.size());
  EXPECT_EQ(std::set<std::int64_t>(seen.begin(), seen.end()), all);
}

INSTANTIATE_TEST_SUITE_P(backends, events_test, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
