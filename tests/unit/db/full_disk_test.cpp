// SQLite on a volume that fills up for real (a small tmpfs): a write that
// finds no room is insufficient_storage (507), and the gateway's make-room
// hook (the data directory's ballast) lets it through.
#include "core/offload.hpp"
#include "db/database.hpp"
#include "db/sqlite.hpp"
#include "storage/space.hpp"
#include "support/common.hpp"
#include "support/run.hpp"
#include "support/tmpfs.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

using namespace reel::db;
using reel::errc;
using reel::test::k_mib;
namespace fs = std::filesystem;

namespace {

class sqlite_full_disk_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!volume_.mounted()) GTEST_SKIP() << volume_.why_not();
    db_ = std::make_unique<sqlite_database>((fs::path(volume_.dir()) / "reel.db").string(), 2);
    db_->transact(true, [](transaction& s) { s.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"); });
    // Some rows while there is room (each a page or so).
    db_->transact(true, [](transaction& s) {
      for (int i = 0; i < 200; ++i) s.exec("INSERT INTO notes (body) VALUES (?)", {std::string(3000, 'n')});
    });
  }
  void fill_volume() { volume_.fill(fs::path(volume_.dir()) / "other"); }
  static std::int64_t count(database& db) {
    std::int64_t n = -1;
    db.transact(false, [&](transaction& s) { n = s.query_one("SELECT COUNT(*) FROM notes")->int64(0); });
    return n;
  }
  // The errc of the db_error `fn` throws, or nullopt.
  template <class F>
  static std::optional<errc> failure_of(F&& fn) {
    try {
      fn();
    } catch (const db_error& e) {
      return e.code();
    }
    return std::nullopt;
  }

  reel::test::tmpfs_mount volume_{4 * k_mib};
  std::unique_ptr<sqlite_database> db_;
};

}  // namespace

TEST_F(sqlite_full_disk_test, a_write_that_finds_the_volume_full_is_insufficient_storage_and_nothing_is_kept) {
  fill_volume();
  auto before = count(*db_);
  auto code = failure_of([&] {
    db_->transact(true, [](transaction& s) {
      for (int i = 0; i < 400; ++i) s.exec("INSERT INTO notes (body) VALUES (?)", {std::string(3000, 'x')});
    });
  });
  EXPECT_EQ(code, errc::insufficient_storage);
  EXPECT_EQ(reel::http_status_of(*code), 507u);
  EXPECT_EQ(count(*db_), before);
  // Reads go on.
  EXPECT_EQ(count(*db_), 200);
}

// Why the ballast: in WAL mode even a DELETE appends frames to the log, and
// a log that must grow on a full volume fails the commit.
TEST_F(sqlite_full_disk_test, a_delete_on_a_volume_full_to_the_last_byte_fails_for_want_of_room_in_the_wal) {
  fill_volume();
  auto code = failure_of([&] { db_->transact(true, [](transaction& s) { s.exec("DELETE FROM notes"); }); });
  EXPECT_EQ(code, errc::insufficient_storage);
  EXPECT_EQ(count(*db_), 200);
}

TEST_F(sqlite_full_disk_test, the_gateway_gives_up_the_ballast_and_the_write_goes_through) {
  reel::storage::ballast ballast(fs::path(volume_.dir()) / "reserve", 1 * k_mib);
  ASSERT_TRUE(ballast.restore(0));
  fill_volume();
  reel::worker_pool pool(1);
  gateway gw(pool, *db_);
  std::atomic<int> calls = 0;
  gw.on_storage_full([&] {
    ++calls;
    return ballast.release();
  });
  // A delete and an insert (a login's session) on a volume full to the last byte.
  auto change = [](transaction& s) {
    s.exec("DELETE FROM notes WHERE id <= 100");
    for (int i = 0; i < 100; ++i) s.exec("INSERT INTO notes (body) VALUES (?)", {std::string(3000, 's')});
  };
  reel::test::run(gw.write(change));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(ballast.in_place());
  EXPECT_EQ(count(*db_), 200);
  // With the ballast gone and the volume full again, the hook frees nothing: 507.
  fill_volume();
  auto code = failure_of([&] {
    auto grow = [](transaction& s) {
      for (int i = 0; i < 400; ++i) s.exec("INSERT INTO notes (body) VALUES (?)", {std::string(3000, 'g')});
    };
    reel::test::run(gw.write(grow));
  });
  EXPECT_EQ(code, errc::insufficient_storage);
  EXPECT_EQ(calls.load(), 2);
  pool.join();
}
