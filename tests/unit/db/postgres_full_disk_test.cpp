// PostgreSQL's disk_full (SQLSTATE 53100) is insufficient_storage (507), as
// SQLite's FULL is; the rest of class 53 (memory, connections) stays
// unavailable. The server's own data directory cannot be filled from here:
// the errors are raised with their SQLSTATE by the real server.
#include "db/postgres.hpp"

#include "support/postgres.hpp"

#include <gtest/gtest.h>

using namespace reel::db;
using reel::errc;
using reel::test::postgres_server;

namespace {

std::optional<errc> failure_of(database& db, const std::string& sql) {
  try {
    db.transact(true, [&](transaction& s) { s.exec(sql); });
  } catch (const db_error& e) {
    return e.code();
  }
  return std::nullopt;
}

std::string raise(const std::string& condition) {
  return "DO $$ BEGIN RAISE EXCEPTION 'raised for the test' USING ERRCODE = '" + condition + "'; END $$";
}

}  // namespace

TEST(postgres_full_disk, disk_full_is_insufficient_storage_and_the_connection_goes_on) {
  REEL_REQUIRE_POSTGRES();
  postgres_database db(postgres_server::shared().create_database(), postgres_settings{.connections = 1});
  EXPECT_EQ(failure_of(db, raise("disk_full")), errc::insufficient_storage);
  EXPECT_EQ(failure_of(db, raise("out_of_memory")), errc::unavailable);
  EXPECT_EQ(failure_of(db, raise("too_many_connections")), errc::unavailable);
  EXPECT_FALSE(failure_of(db, "SELECT 1"));
}
