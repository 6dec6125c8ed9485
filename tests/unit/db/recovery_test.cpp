// The password reset repository on both backends: a link redeems once,
// also when many transactions try at once; expired and spent links never.
#include "db/recovery.hpp"

#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace reel::db;

namespace {

constexpr const char* k_recovery_now = "2026-05-01T12:00:00.000Z";
constexpr const char* k_hour_later = "2026-05-01T13:00:00.000Z";

class recovery_store : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 8);
    } else {
      dir_ = reel::test::scratch_path("reel-recovery-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 8);
    }
    migrate(*db_, k_recovery_now);
    write([](transaction& s) {
      insert_user(s, {"u1", "ann@example.com", "Ann", "$argon2id$fake", k_recovery_now});
      insert_user(s, {"u2", "bob@example.com", "Bob", "$argon2id$fake", k_recovery_now});
    });
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  template <class F>
  void write(F&& f) {
    db_->transact(true, f);
  }
  void add(const std::string& id, const std::string& user, const std::string& hash,
           const std::string& created = k_recovery_now, const std::string& expires = k_hour_later) {
    write([&](transaction& s) { insert_password_reset(s, {id, user, hash, created, expires}); });
  }
  std::optional<std::string> redeem(const std::string& hash, const std::string& now) {
    std::optional<std::string> out;
    write([&](transaction& s) { out = redeem_password_reset(s, hash, now); });
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<database> db_;
};

}  // namespace

TEST_P(recovery_store, a_link_redeems_once) {
  add("r1", "u1", "hash1");
  std::optional<std::string> live;
  db_->transact(false,
                [&](transaction& s) { live = find_live_password_reset(s, "hash1", "2026-05-01T12:30:00.000Z"); });
  EXPECT_EQ(live, "u1");
  EXPECT_EQ(redeem("hash1", "2026-05-01T12:30:00.000Z"), "u1");
  EXPECT_EQ(redeem("hash1", "2026-05-01T12:30:01.000Z"), std::nullopt);
  db_->transact(false,
                [&](transaction& s) { live = find_live_password_reset(s, "hash1", "2026-05-01T12:31:00.000Z"); });
  EXPECT_EQ(live, std::nullopt);
  EXPECT_EQ(redeem("unknown", "2026-05-01T12:30:00.000Z"), std::nullopt);
}

TEST_P(recovery_store, an_expired_link_is_refused) {
  add("r1", "u1", "hash1");
  EXPECT_EQ(redeem("hash1", k_hour_later), std::nullopt);  // expires_at is not after now
  EXPECT_EQ(redeem("hash1", "2026-05-01T14:00:00.000Z"), std::nullopt);
  EXPECT_EQ(redeem("hash1", "2026-05-01T12:59:59.999Z"), "u1");
}

TEST_P(recovery_store, a_newer_link_spends_the_older_ones_of_that_user_only) {
  add("r1", "u1", "hash1");
  add("r2", "u2", "hash2");
  add("r3", "u1", "hash3", "2026-05-01T12:10:00.000Z", "2026-05-01T13:10:00.000Z");
  EXPECT_EQ(redeem("hash1", "2026-05-01T12:20:00.000Z"), std::nullopt);
  EXPECT_EQ(redeem("hash2", "2026-05-01T12:20:00.000Z"), "u2");
  EXPECT_EQ(redeem("hash3", "2026-05-01T12:20:00.000Z"), "u1");
  std::int64_t n = 0;
  db_->transact(false, [&](transaction& s) { n = count_password_resets_since(s, "u1", "2026-05-01T11:30:00.000Z"); });
  EXPECT_EQ(n, 2);
  db_->transact(false, [&](transaction& s) { n = count_password_resets_since(s, "u1", "2026-05-01T12:05:00.000Z"); });
  EXPECT_EQ(n, 1);
}

TEST_P(recovery_store, of_many_redemptions_at_once_exactly_one_wins) {
  for (int round = 0; round < 5; ++round) {
    std::string hash = "race" + std::to_string(round);
    add("r" + std::to_string(round), "u1", hash);
    std::atomic<int> winners{0}, losers{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i)
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        if (redeem(hash, "2026-05-01T12:30:00.000Z"))
          ++winners;
        else
          ++losers;
      });
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners, 1) << round;
    EXPECT_EQ(losers, 5) << round;
  }
}

TEST_P(recovery_store, the_sweep_removes_expired_links_only) {
  add("old", "u1", "hash-old", "2026-05-01T10:00:00.000Z", "2026-05-01T11:00:00.000Z");
  add("new", "u2", "hash-new");
  std::int64_t removed = 0;
  write([&](transaction& s) { removed = delete_stale_password_resets(s, k_recovery_now); });
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(redeem("hash-new", "2026-05-01T12:30:00.000Z"), "u2");
}

TEST_P(recovery_store, a_hash_is_unique) {
  add("r1", "u1", "same");
  try {
    add("r2", "u2", "same");
    ADD_FAILURE() << "a second reset with the same hash was stored";
  } catch (const db_error& e) {
    EXPECT_EQ(e.code(), reel::errc::conflict);
  }
}

INSTANTIATE_TEST_SUITE_P(backends, recovery_store, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });
