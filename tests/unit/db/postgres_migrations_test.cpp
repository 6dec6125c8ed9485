#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "db/sqlite.hpp"

#include "support/postgres.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

using namespace reel::db;
using reel::test::postgres_server;

namespace {

class postgres_migrations_test : public ::testing::Test {
 protected:
  void SetUp() override { REEL_REQUIRE_POSTGRES(); }
};

// version → how many times schema_migrations records it.
std::map<std::int64_t, std::int64_t> recorded_versions(database& db) {
  std::map<std::int64_t, std::int64_t> out;
  db.transact(false, [&](transaction& s) {
    for (const auto& r : s.query("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version"))
      out[r.int64(0)] = r.int64(1);
  });
  return out;
}

struct column {
  std::string name, type;
  bool not_null;
  bool operator==(const column&) const = default;
};
std::ostream& operator<<(std::ostream& o, const column& c) {
  return o << c.name << " " << c.type << (c.not_null ? " NOT NULL" : "");
}

// The SQLite declared type a PostgreSQL column stands for.
std::string as_sqlite_type(const std::string& pg) {
  if (pg == "bigint" || pg == "integer") return "INTEGER";
  if (pg == "double precision") return "REAL";
  if (pg == "text") return "TEXT";
  return "?" + pg;
}

}  // namespace

TEST_F(postgres_migrations_test, migrations_are_applied_once) {
  auto db = open_database(postgres_server::shared().create_database(), "", 2);
  EXPECT_EQ(schema_version(*db), 0);
  EXPECT_EQ(migrate(*db, "2026-01-01T00:00:00.000Z"), static_cast<int>(all_migrations().size()));
  EXPECT_EQ(migrate(*db, "2026-01-02T00:00:00.000Z"), 0);
  EXPECT_EQ(schema_version(*db), all_migrations().back().version);
}

// Several processes starting at once on an empty database (each a database
// object of its own: separate sessions, as from separate processes).
TEST_F(postgres_migrations_test, concurrent_migrations_apply_each_migration_exactly_once) {
  constexpr int k_migrators = 4;
  for (int round = 0; round < 3; ++round) {
    std::string url = postgres_server::shared().create_database();
    std::vector<std::unique_ptr<database>> dbs;
    for (int i = 0; i < k_migrators; ++i) dbs.push_back(open_database(url, "", 1));
    std::barrier start(k_migrators);
    std::vector<int> applied(k_migrators, -1);
    std::vector<std::string> errors(k_migrators);
    std::vector<std::thread> threads;
    for (int i = 0; i < k_migrators; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        try {
          applied[i] = migrate(*dbs[i], "2026-01-01T00:00:00.000Z");
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    int total = 0;
    for (int i = 0; i < k_migrators; ++i) {
      EXPECT_EQ(errors[i], "") << "migrator " << i;
      total += applied[i];
    }
    EXPECT_EQ(total, static_cast<int>(all_migrations().size())) << "round " << round;
    for (const auto& m : all_migrations()) EXPECT_EQ(recorded_versions(*dbs[0])[m.version], 1) << m.version;
  }
}

// The two dialects' forms of each migration describe the same tables.
TEST_F(postgres_migrations_test, the_schema_matches_sqlites_column_for_column) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("reel-schema-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto lite = open_database("", dir.string(), 1);
  auto pg = open_database(postgres_server::shared().create_database(), "", 1);
  migrate(*lite, "2026-01-01T00:00:00.000Z");
  migrate(*pg, "2026-01-01T00:00:00.000Z");

  std::map<std::string, std::vector<column>> lite_tables, pg_tables;
  std::set<std::string> lite_indexes, pg_indexes;
  lite->transact(false, [&](transaction& s) {
    for (const auto& t :
         s.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")) {
      std::string pragma = "PRAGMA table_info(" + t.text(0) + ")";
      for (const auto& c : s.query(pragma))
        lite_tables[t.text(0)].push_back({c.text(1), c.text(2), c.int64(3) != 0 || c.int64(5) != 0});
    }
    for (const auto& i : s.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
      lite_indexes.insert(i.text(0));
  });
  pg->transact(false, [&](transaction& s) {
    for (const auto& c :
         s.query("SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
                 "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")) {
      if (c.text(0) == "memberships" && c.text(1) == "rowid") continue;  // SQLite's is implicit
      pg_tables[c.text(0)].push_back({c.text(1), as_sqlite_type(c.text(2)), c.text(3) == "NO"});
    }
    for (const auto& i :
         s.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' "
                 "AND indexname NOT LIKE '%_key'"))
      pg_indexes.insert(i.text(0));
  });
  lite.reset();
  fs::remove_all(dir);
  EXPECT_EQ(pg_tables.size(), lite_tables.size());
  for (const auto& [table, columns] : lite_tables) EXPECT_EQ(pg_tables[table], columns) << table;
  EXPECT_EQ(pg_indexes, lite_indexes);
}
