#include "db/postgres.hpp"

#include "support/postgres.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <mutex>
#include <thread>

using namespace reel::db;
using reel::errc;
using reel::test::postgres_server;

namespace {

class postgres_test : public ::testing::Test {
 protected:
  void SetUp() override {
    REEL_REQUIRE_POSTGRES();
    url_ = postgres_server::shared().create_database();
  }
  std::unique_ptr<postgres_database> open(postgres_settings s = {}) {
    return std::make_unique<postgres_database>(url_, s);
  }
  // The errc and message of the db_error `fn` throws.
  template <class F>
  static std::pair<errc, std::string> failure_of(F&& fn) {
    try {
      fn();
    } catch (const db_error& e) {
      return {e.code(), e.what()};
    }
    ADD_FAILURE() << "no db_error";
    return {errc::internal, ""};
  }
  static std::int64_t count(database& db, const char* table) {
    std::int64_t n = -1;
    std::string sql = std::string("SELECT COUNT(*) FROM ") + table;
    db.transact(false, [&](transaction& s) { n = s.query_one(sql)->int64(0); });
    return n;
  }

  std::string url_;
};

}  // namespace

TEST(postgres_placeholders, are_numbered_in_order_outside_quotes_and_comments) {
  EXPECT_EQ(number_placeholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  int n = 0;
  EXPECT_EQ(number_placeholders("SELECT '?', \"a?\", 'it''s ?' -- why?\n, ? /* ? */ , ?", &n),
            "SELECT '?', \"a?\", 'it''s ?' -- why?\n, $1 /* ? */ , $2");
  EXPECT_EQ(n, 2);
  EXPECT_EQ(number_placeholders("SELECT 1", &n), "SELECT 1");
  EXPECT_EQ(n, 0);
}

TEST_F(postgres_test, values_round_trip_with_their_types) {
  auto db = open();
  EXPECT_EQ(db->backend(), "postgresql");
  db->transact(true, [](transaction& s) {
    s.exec("CREATE TABLE v (k BIGINT, i BIGINT, d DOUBLE PRECISION, t TEXT, n TEXT)");
    s.exec("INSERT INTO v VALUES (?, ?, ?, ?, ?)", {1, INT64_MIN, 0.1 + 0.2, "ünïcode 'quoted' ? $1", nullptr});
    s.exec("INSERT INTO v VALUES (?, ?, ?, ?, ?)", {2, INT64_MAX, 1e300, "", std::optional<std::string>()});
    s.exec("INSERT INTO v VALUES (?, ?, ?, ?, ?)", {3, true, -2.5e-300, std::string(100'000, 'x'), "not null"});
  });
  db->transact(false, [](transaction& s) {
    auto rows = s.query("SELECT k, i, d, t, n FROM v ORDER BY k");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].int64(1), INT64_MIN);
    EXPECT_EQ(rows[0].real(2), 0.1 + 0.2);  // exactly: the shortest text that reads back the same
    EXPECT_EQ(rows[0].text(3), "ünïcode 'quoted' ? $1");
    EXPECT_TRUE(rows[0].is_null(4));
    EXPECT_EQ(rows[1].int64(1), INT64_MAX);
    EXPECT_EQ(rows[1].real(2), 1e300);
    EXPECT_EQ(rows[1].text(3), "");  // empty text is not NULL
    EXPECT_FALSE(rows[1].is_null(3));
    EXPECT_EQ(rows[2].int64(1), 1);
    EXPECT_EQ(rows[2].real(2), -2.5e-300);
    EXPECT_EQ(rows[2].text(3).size(), 100'000u);
    EXPECT_EQ(rows[2].opt_text(4), "not null");

    // Columns are typed by their type: every integer width, floats, numeric, bool.
    auto r = s.query_one("SELECT COUNT(*), 7::int2, 8::int4, 1.5::float4, 2.25::numeric, true, 'x'::varchar FROM v");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->int64(0), 3);
    EXPECT_EQ(r->int64(1), 7);
    EXPECT_EQ(r->int64(2), 8);
    EXPECT_EQ(r->real(3), 1.5);
    EXPECT_EQ(r->real(4), 2.25);
    EXPECT_EQ(r->int64(5), 1);
    EXPECT_EQ(r->text(6), "x");
    EXPECT_THROW(r->text(0), db_error);
    EXPECT_FALSE(s.query_one("SELECT k FROM v WHERE k = ?", {99}));
  });
}

TEST_F(postgres_test, exec_returns_the_rows_it_changed) {
  auto db = open();
  db->transact(true, [](transaction& s) {
    s.exec("CREATE TABLE c (k BIGINT PRIMARY KEY, x TEXT)");
    EXPECT_EQ(s.exec("INSERT INTO c VALUES (?, ?), (?, ?), (?, ?)", {1, "a", 2, "b", 3, "b"}), 3);
    EXPECT_EQ(s.exec("UPDATE c SET x = ? WHERE x = ?", {"c", "b"}), 2);
    EXPECT_EQ(s.exec("DELETE FROM c WHERE k = ?", {42}), 0);
  });
}

TEST_F(postgres_test, constraint_violations_are_conflicts_and_the_connection_goes_on) {
  auto db = open({.connections = 1});
  db->transact(true, [](transaction& s) {
    s.exec("CREATE TABLE p (k TEXT PRIMARY KEY, n BIGINT NOT NULL CHECK (n > 0))");
    s.exec("CREATE TABLE f (k TEXT PRIMARY KEY, p TEXT NOT NULL REFERENCES p(k))");
    s.exec("INSERT INTO p VALUES (?, ?)", {"a", 1});
  });
  auto insert = [&](const char* sql, std::initializer_list<value> params) {
    return failure_of([&] { db->transact(true, [&](transaction& s) { s.exec(sql, params); }); });
  };
  auto unique = insert("INSERT INTO p VALUES (?, ?)", {"a", 2});
  EXPECT_EQ(unique.first, errc::conflict);
  EXPECT_NE(unique.second.find("duplicate key"), std::string::npos) << unique.second;
  EXPECT_EQ(insert("INSERT INTO p VALUES (?, ?)", {"b", 0}).first, errc::conflict);          // check
  EXPECT_EQ(insert("INSERT INTO p VALUES (?, ?)", {"b", nullptr}).first, errc::conflict);    // not null
  EXPECT_EQ(insert("INSERT INTO f VALUES (?, ?)", {"x", "missing"}).first, errc::conflict);  // foreign key
  EXPECT_EQ(insert("INSERT INTO nowhere VALUES (?)", {1}).first, errc::internal);
  EXPECT_EQ(count(*db, "p"), 1);  // the one connection survived every failure
}

TEST_F(postgres_test, a_throwing_transaction_is_rolled_back_and_the_exception_goes_on) {
  auto db = open({.connections = 1});
  db->transact(true, [](transaction& s) { s.exec("CREATE TABLE r (k BIGINT)"); });
  EXPECT_THROW(db->transact(true,
                            [](transaction& s) {
                              s.exec("INSERT INTO r VALUES (?)", {1});
                              throw std::invalid_argument("boom");
                            }),
               std::invalid_argument);
  EXPECT_EQ(count(*db, "r"), 0);
}

// SQLite goes on after a failed statement; PostgreSQL aborts the transaction
// and COMMIT rolls it back. That must not pass for success.
TEST_F(postgres_test, a_statement_error_swallowed_inside_the_transaction_fails_the_commit) {
  auto db = open({.connections = 1});
  db->transact(true, [](transaction& s) { s.exec("CREATE TABLE w (k BIGINT PRIMARY KEY)"); });
  auto f = failure_of([&] {
    db->transact(true, [](transaction& s) {
      s.exec("INSERT INTO w VALUES (?)", {1});
      try {
        s.exec("INSERT INTO w VALUES (?)", {1});
      } catch (const db_error&) {
      }
    });
  });
  EXPECT_EQ(f.first, errc::conflict);
  EXPECT_EQ(count(*db, "w"), 0);
}

TEST_F(postgres_test, a_statement_over_the_timeout_is_unavailable_and_the_connection_stays) {
  auto db = open({.connections = 1, .statement_timeout = std::chrono::milliseconds(200)});
  auto started = std::chrono::steady_clock::now();
  auto f = failure_of([&] { db->transact(false, [](transaction& s) { s.query("SELECT pg_sleep(5)"); }); });
  EXPECT_EQ(f.first, errc::unavailable);
  EXPECT_NE(f.second.find("statement timeout"), std::string::npos) << f.second;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  db->transact(false, [](transaction& s) { EXPECT_EQ(s.query_one("SELECT 1")->int64(0), 1); });
}

TEST_F(postgres_test, the_pool_never_opens_more_connections_than_its_size) {
  auto db = open({.connections = 3});
  std::atomic<std::int64_t> most{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        db->transact(false, [&](transaction& s) {
          s.query("SELECT pg_sleep(0.05)");
          auto n = s.query_one(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = 'reel'")
                       ->int64(0);
          for (auto m = most.load(); n > m && !most.compare_exchange_weak(m, n);) {
          }
        });
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GE(most, 2);
  EXPECT_LE(most, 3);
}

TEST_F(postgres_test, open_database_takes_both_url_schemes) {
  EXPECT_EQ(open_database(url_, "", 2)->backend(), "postgresql");
  std::string alias = "postgresql" + url_.substr(url_.find("://"));
  EXPECT_EQ(open_database(alias, "", 2)->backend(), "postgresql");
  EXPECT_EQ(failure_of([] { open_database("mysql://db/reel", "", 2); }).first, errc::unavailable);
}

TEST_F(postgres_test, start_up_with_a_bad_url_names_the_server_and_the_cause_never_the_password) {
  auto refused = failure_of([] { postgres_database("postgres://reel:s3cret-pw@127.0.0.1:1/reel"); });
  EXPECT_EQ(refused.first, errc::unavailable);
  EXPECT_NE(refused.second.find("127.0.0.1:1"), std::string::npos) << refused.second;
  EXPECT_NE(refused.second.find("Connection refused"), std::string::npos) << refused.second;

  std::string missing_db = url_.substr(0, url_.find("/test_") + 1) + "no_such_db" + url_.substr(url_.find('?'));
  auto missing = failure_of([&] { postgres_database{missing_db}; });
  EXPECT_EQ(missing.first, errc::unavailable);
  EXPECT_NE(missing.second.find("database \"no_such_db\" does not exist"), std::string::npos) << missing.second;
  EXPECT_NE(missing.second.find(postgres_server::shared().dir()), std::string::npos) << missing.second;

  auto invalid = failure_of([] { postgres_database("postgres://reel:pw%zzsecret@localhost/reel"); });
  EXPECT_EQ(invalid.first, errc::unavailable);
  EXPECT_NE(invalid.second.find("not valid"), std::string::npos) << invalid.second;

  for (const auto& f : {refused, missing, invalid}) {
    EXPECT_EQ(f.second.find("s3cret"), std::string::npos) << f.second;
    EXPECT_EQ(f.second.find("zzsecret"), std::string::npos) << f.second;
    EXPECT_EQ(f.second.find('\n'), std::string::npos) << f.second;  // one sentence
  }
}

TEST_F(postgres_test, a_wrong_password_is_named_but_not_shown) {
  auto server = postgres_server::start(/*tcp=*/true);
  std::string good = server->tcp_url();
  postgres_database{good};  // the right password works
  std::string bad = good;
  bad.replace(bad.find(":reel@"), 6, ":wrong-pass-123@");
  auto f = failure_of([&] { postgres_database{bad}; });
  EXPECT_EQ(f.first, errc::unavailable);
  EXPECT_NE(f.second.find("password authentication failed"), std::string::npos) << f.second;
  EXPECT_NE(f.second.find("127.0.0.1:"), std::string::npos) << f.second;
  EXPECT_EQ(f.second.find("wrong-pass-123"), std::string::npos) << f.second;
}

// The restart tests run a server of their own: a restart closes every session on it.
TEST(postgres_restart, a_transaction_cut_by_a_restart_is_unavailable_and_rolled_back_then_the_next_succeeds) {
  REEL_REQUIRE_POSTGRES();
  auto server = postgres_server::start();
  postgres_database db(server->create_database(), {.connections = 2});
  // Two connections in the pool.
  db.transact(true, [&](transaction&) {
    db.transact(true, [](transaction& s) { s.exec("CREATE TABLE events (k BIGINT PRIMARY KEY)"); });
  });

  server->restart();
  // Both pooled connections are closed now. One found closed at BEGIN is
  // replaced before any work: nothing is lost, so the transaction goes ahead.
  db.transact(true, [](transaction& s) { s.exec("INSERT INTO events VALUES (?)", {1}); });

  // Cut in the middle: unavailable, nothing of it written.
  try {
    db.transact(true, [&](transaction& s) {
      s.exec("INSERT INTO events VALUES (?)", {2});
      server->restart();
      s.exec("INSERT INTO events VALUES (?)", {3});
    });
    FAIL() << "the transaction survived a restart";
  } catch (const db_error& e) {
    EXPECT_EQ(e.code(), errc::unavailable) << e.what();
  }
  // The one after succeeds, on a new connection.
  std::vector<std::int64_t> keys;
  db.transact(true, [&](transaction& s) {
    s.exec("INSERT INTO events VALUES (?)", {4});
    for (const auto& r : s.query("SELECT k FROM events ORDER BY k")) keys.push_back(r.int64(0));
  });
  EXPECT_EQ(keys, (std::vector<std::int64_t>{1, 4}));
}

TEST(postgres_restart, while_the_server_is_down_transactions_are_unavailable_and_recover_when_it_returns) {
  REEL_REQUIRE_POSTGRES();
  auto server = postgres_server::start();
  postgres_database db(server->create_database(), {.connections = 2});
  db.transact(true, [](transaction& s) { s.exec("CREATE TABLE t (k BIGINT)"); });

  server->stop_for_now();
  for (int i = 0; i < 3; ++i) {  // the pooled connection, then new ones: all refused
    try {
      db.transact(true, [](transaction& s) { s.exec("INSERT INTO t VALUES (?)", {1}); });
      FAIL() << "a transaction ran with the server down";
    } catch (const db_error& e) {
      EXPECT_EQ(e.code(), errc::unavailable) << e.what();
    }
  }
  server->start_again();
  db.transact(true, [](transaction& s) { s.exec("INSERT INTO t VALUES (?)", {2}); });
  db.transact(false, [](transaction& s) { EXPECT_EQ(s.query_one("SELECT SUM(k) FROM t")->real(0), 2); });
}
