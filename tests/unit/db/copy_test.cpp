// db::copy_installation: every table, every value, all or nothing, from
// SQLite into PostgreSQL.
#include "db/copy.hpp"

#include "db/migrations.hpp"
#include "db/sqlite.hpp"

#include "support/common.hpp"
#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <map>
#include <set>

using namespace reel::db;
using reel::errc;
using reel::test::k_now;

namespace {

std::filesystem::path temp_dir() { return reel::test::scratch_path("reel-copy-"); }

// The columns of `table` and their types, as SQLite declares them (the
// same names on both backends).
std::vector<std::pair<std::string, std::string>> columns_of(database& sqlite, const std::string& table) {
  std::vector<std::pair<std::string, std::string>> out;
  sqlite.transact(false, [&](transaction& s) {
    for (const auto& r : s.query("SELECT name, type FROM pragma_table_info(?) ORDER BY cid", {table}))
      out.emplace_back(r.text(0), r.text(1));
  });
  return out;
}

// Every row of `table` in the order `order`, each value written with its
// type (a double as its bits: equal means exactly equal).
std::vector<std::string> rows_of(database& db, const std::vector<std::pair<std::string, std::string>>& columns,
                                 const std::string& table, const std::string& order) {
  std::string sql = "SELECT ";
  for (const auto& [name, type] : columns) sql += (name == columns.front().first ? "" : ", ") + name;
  sql += " FROM " + table + " ORDER BY " + order;
  std::vector<std::string> out;
  db.transact(false, [&](transaction& s) {
    for (const auto& r : s.query(sql)) {
      std::string line;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& type = columns[i].second;
        if (r.is_null(i))
          line += "null";
        else if (type == "INTEGER")
          line += "i:" + std::to_string(r.int64(i));
        else if (type == "REAL")
          line += "r:" + std::to_string(std::bit_cast<std::uint64_t>(r.real(i)));
        else
          line += "t:" + r.text(i);
        line += "|";
      }
      out.push_back(line);
    }
  });
  return out;
}

std::map<std::string, std::int64_t> counts(database& db) {
  std::map<std::string, std::int64_t> out;
  db.transact(false, [&](transaction& s) {
    for (const auto& t : installation_tables()) out[t] = s.query_one("SELECT COUNT(*) FROM " + t)->int64(0);
  });
  return out;
}

class copy_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::remove_all(temp_dir());
    std::filesystem::create_directories(temp_dir());
    source_ = std::make_unique<sqlite_database>((temp_dir() / "reel.db").string(), 2);
    migrate(*source_, k_now);
  }
  void TearDown() override {
    source_.reset();
    target_.reset();
    std::filesystem::remove_all(temp_dir());
  }
  // A fresh PostgreSQL database, migrated as `reel db copy` does.
  database& target() {
    target_ = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
    migrate(*target_, k_now);
    return *target_;
  }
  std::vector<std::string> dump(database& db, const std::string& table, const std::string& order) {
    return rows_of(db, columns_of(*source_, table), table, order);
  }
  void source_sql(const std::string& sql, std::initializer_list<value> params = {}) {
    source_->transact(true, [&](transaction& s) { s.exec(sql, params); });
  }

  // An installation whose values reach the corners: NULLs, doubles without
  // a short decimal form, integers past 2^53, JSON, quotes, non-ASCII text,
  // memberships added in another order than their keys sort in, and more
  // sessions than one page and one INSERT hold.
  void seed(int sessions = 2500) {
    source_->transact(true, [&](transaction& s) {
      const char* user = "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)";
      s.exec(user, {"u1", "zoe@example.com", "Zoë 🎬 O'Brien \"Z\"", "$argon2id$v=19$m=65536$a$b", k_now});
      s.exec(user, {"u2", "bob@example.com", "Bob\ttab\nnewline", "$argon2id$v=19$m=65536$c$d", k_now});
      s.exec(user, {"u3", "cy@example.com", "", "$argon2id$x", "2026-01-01T00:00:00.001Z"});
      const char* org = "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)";
      s.exec(org, {"o1", "Études", k_now});
      s.exec(org, {"o2", "Bob's", k_now});
      const char* member = "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (?, ?, ?, ?)";
      // In an order that neither key nor index sorts in: only the rowid keeps it.
      s.exec(member, {"o2", "u3", "admin", k_now});
      s.exec(member, {"o2", "u1", "owner", k_now});
      s.exec(member, {"o1", "u2", "owner", k_now});
      s.exec(member, {"o1", "u1", "viewer", k_now});
      s.exec(member, {"o1", "u3", "member", k_now});
      for (int i = 0; i < sessions; ++i) {
        std::string id = "s" + std::to_string(100000 + i);
        // Sessions of before migration 4 have no address or user agent (NULL).
        s.exec(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, revoked_at, last_used_at, "
            "address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {id, i % 2 ? "u1" : "u2", "hash-" + id, k_now, "2026-02-01T00:00:00.000Z",
             i % 3 ? value(nullptr) : value("2026-01-02T00:00:00.000Z"),
             "2026-01-01T00:0" + std::to_string(i % 10) + ":00.000Z",
             i % 5 ? value("203.0.113." + std::to_string(i % 256)) : value(nullptr),
             i % 5 ? value("Mozilla/5.0 (X11; Linux x86_64) Zoë \"" + std::to_string(i) + "\"") : value(nullptr)});
      }
      const char* reset =
          "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, "
          "?, ?)";
      s.exec(reset, {"r1", "u1", "reset-hash-1", k_now, "2026-02-01T00:00:00.000Z", value(nullptr)});
      s.exec(reset, {"r2", "u2", "reset-hash-2", k_now, "2026-02-01T00:00:00.000Z", k_now});
      const char* video =
          "INSERT INTO videos (id, organization_id, title, description, status, progress_stage, progress_percent, "
          "error, original_filename, content_type, size_bytes, duration_sec, width, height, video_codec, audio_codec, "
          "renditions, created_by, created_at, updated_at, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?, ?, ?, ?, ?, ?)";
      s.exec(video, {"v1",
                     "o1",
                     "Ready",
                     "two\nlines",
                     "ready",
                     nullptr,
                     nullptr,
                     nullptr,
                     "a.mp4",
                     "video/mp4",
                     std::int64_t{9007199254740993},
                     0.1,
                     1920,
                     1080,
                     "h264",
                     "aac",
                     R"([{"name":"1080p","bandwidth":5000000,"note":"\u00e9 \"q\""}])",
                     "u1",
                     k_now,
                     k_now,
                     k_now});
      s.exec(video, {"v2",          "o1",      "Halfway", "",      "processing",
                     "hls",         100.0 / 3, nullptr,   "b.mov", "video/quicktime",
                     5'000'000'000, 1e-300,    nullptr,   nullptr, nullptr,
                     nullptr,       "[]",      nullptr,   k_now,   k_now,
                     nullptr});
      s.exec(video, {"v3",     "o2",
                     "Broken", "",
                     "failed", nullptr,
                     nullptr,  "The file is not a video.",
                     "c.bin",  "application/octet-stream",
                     1,        nullptr,
                     nullptr,  nullptr,
                     nullptr,  nullptr,
                     "[]",     "u2",
                     k_now,    k_now,
                     nullptr});
      s.exec(video,
             {"v4",    "o2",    "Arriving", "",      "uploading", nullptr, nullptr, nullptr, "d.mp4", "video/mp4", 1000,
              nullptr, nullptr, nullptr,    nullptr, nullptr,     "[]",    "u1",    k_now,   k_now,   nullptr});
      const char* job =
          "INSERT INTO jobs (id, kind, organization_id, video_id, state, attempts, max_attempts, run_after, "
          "lease_owner, lease_expires_at, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
          "?, ?)";
      s.exec(job,
             {"j1", "process_video", "o1", "v1", "succeeded", 1, 3, k_now, nullptr, nullptr, nullptr, k_now, k_now});
      s.exec(job, {"j2", "process_video", "o1", "v2", "running", 2, 3, k_now, "host:1:abc", "2026-01-01T00:01:00.000Z",
                   "ffmpeg was killed", k_now, k_now});
      s.exec(job,
             {"j3", "process_video", "o2", nullptr, "cancelled", 0, 3, k_now, nullptr, nullptr, nullptr, k_now, k_now});
      s.exec(
          "INSERT INTO uploads (id, organization_id, video_id, created_by, length, received, metadata, created_at, "
          "updated_at, expires_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {"up1", "o2", "v4", "u1", 1000, 400, "filename ZC5tcDQ=,title QXJyaXZpbmc=", k_now, k_now,
           "2026-01-02T00:00:00.000Z", nullptr});
      const char* invitation =
          "INSERT INTO invitations (id, organization_id, email, role, invited_by, created_at, expires_at, "
          "accepted_at, declined_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
      s.exec(invitation, {"i1", "o1", "new@example.com", "admin", "u2", k_now, "2026-01-08T00:00:00.000Z", nullptr,
                          nullptr, nullptr});
      s.exec(invitation, {"i2", "o2", "cy@example.com", "viewer", nullptr, k_now, "2026-01-08T00:00:00.000Z",
                          "2026-01-01T00:00:01.000Z", nullptr, nullptr});
      // API keys (migration 14): one made by a user and used, one whose maker is gone.
      const char* key =
          "INSERT INTO api_keys (id, organization_id, name, role, prefix, token_hash, created_by, created_at, "
          "last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
      s.exec(key, {"k1", "o1", "Encoder é", "member", "reel_sk_abcdefgh", std::string(64, 'a'), "u1", k_now, k_now});
      s.exec(key, {"k2", "o2", "CI", "viewer", "reel_sk_ijklmnop", std::string(64, 'b'), nullptr, k_now, nullptr});
      // Sharing (migration 9): a visibility, a view count, a slug, origins, a secret, view days.
      s.exec("UPDATE videos SET visibility = 'public', view_count = 3 WHERE id = 'v1'");
      s.exec(
          "UPDATE organizations SET slug = 'etudes', embed_origins = 'https://a.example http://b.example:8080' "
          "WHERE id = 'o1'");
      s.exec("INSERT INTO server_secrets (name, value, created_at) VALUES ('signing_key', 'k3y', ?)", {k_now});
      const char* day = "INSERT INTO video_view_days (video_id, day, views) VALUES (?, ?, ?)";
      s.exec(day, {"v1", "2026-01-01", 2});
      s.exec(day, {"v1", "2026-01-02", 1});
      s.exec(day, {"v2", "2026-01-01", 7});
      s.exec("INSERT INTO video_viewers (video_id, viewer, counted_at) VALUES ('v1', 'anon:abc', ?)", {k_now});
      // Captions (migration 10): more than a page of them (8 rows), text with non-ASCII letters.
      const char* caption =
          "INSERT INTO captions (video_id, language, label, vtt, size_bytes, created_at, updated_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)";
      for (int i = 0; i < 10; ++i) {
        std::string vtt =
            "WEBVTT\n\n00:00:00.000 --> 00:00:0" + std::to_string(i) + ".000\nÉtude n° " + std::to_string(i) + "\n";
        s.exec(caption, {"v1", "x" + std::to_string(i) + "a", "Étude " + std::to_string(i), vtt,
                         static_cast<std::int64_t>(vtt.size()), k_now, k_now});
      }
      s.exec(caption, {"v2", "en-US", "English", "WEBVTT\n", 7, k_now, k_now});
      // Webhooks (migration 15): an endpoint, the outbox, a delivery with a response.
      s.exec(
          "INSERT INTO webhook_endpoints (id, organization_id, url, events, enabled, secret, disabled_reason, "
          "disabled_at, failing_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {"whk_1", "o1", "https://hooks.example/é", R"(["video.ready"])", 0, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           "It answered 410 Gone.", k_now, nullptr, k_now, k_now});
      s.exec(
          "INSERT INTO webhook_messages (id, organization_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
          {"msg_1", "o1", "video.ready", R"({"type":"video.ready","data":{"title":"Étude"}})", k_now});
      s.exec(
          "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, organization_id, status, attempts, "
          "next_attempt_at, lease_owner, lease_expires_at, last_attempt_at, response_code, latency_ms, "
          "response_body, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {"dlv_1", "msg_1", "whk_1", "o1", "failed", 2, k_now, nullptr, nullptr, k_now, 410, 12, "gone", nullptr,
           k_now, k_now});
    });
  }

  std::unique_ptr<database> source_, target_;
};

std::map<std::string, std::int64_t> as_map(const std::vector<copied_table>& copied) {
  std::map<std::string, std::int64_t> out;
  for (const auto& c : copied) out[c.table] = c.rows;
  return out;
}

}  // namespace

TEST(copy_tables, are_every_table_the_migrations_create_with_parents_first) {
  std::filesystem::path dir = temp_dir();
  std::filesystem::create_directories(dir);
  {
    sqlite_database db((dir / "reel.db").string(), 1);
    migrate(db, k_now);
    std::set<std::string> created;
    db.transact(false, [&](transaction& s) {
      for (const auto& r : s.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        if (r.text(0) != "schema_migrations") created.insert(r.text(0));
      const auto& tables = installation_tables();
      std::set<std::string> expected(tables.begin(), tables.end());
      expected.insert(transient_tables().begin(), transient_tables().end());
      EXPECT_EQ(created, expected);
      for (std::size_t i = 0; i < tables.size(); ++i)
        for (const auto& fk : s.query("SELECT \"table\" FROM pragma_foreign_key_list(?)", {tables[i]})) {
          auto parent = std::find(tables.begin(), tables.end(), fk.text(0));
          EXPECT_LT(parent - tables.begin(), static_cast<std::ptrdiff_t>(i)) << tables[i] << " → " << fk.text(0);
        }
    });
  }
  std::filesystem::remove_all(dir);
}

TEST_F(copy_test, copies_every_value_exactly_and_memberships_in_the_order_they_were_added) {
  REEL_REQUIRE_POSTGRES();
  seed();
  auto& pg = target();
  auto copied = copy_installation(*source_, pg);
  std::vector<std::string> order;
  for (const auto& c : copied) order.push_back(c.table);
  EXPECT_EQ(order, installation_tables());
  std::map<std::string, std::int64_t> expected = {{"users", 3},
                                                  {"organizations", 2},
                                                  {"memberships", 5},
                                                  {"sessions", 2500},
                                                  {"videos", 4},
                                                  {"jobs", 3},
                                                  {"uploads", 1},
                                                  {"password_resets", 2},
                                                  {"invitations", 2},
                                                  {"api_keys", 2},
                                                  {"server_secrets", 1},
                                                  {"video_view_days", 3},
                                                  {"captions", 11},
                                                  {"webhook_endpoints", 1},
                                                  {"webhook_messages", 1},
                                                  {"webhook_deliveries", 1}};
  EXPECT_EQ(as_map(copied), expected);
  EXPECT_EQ(counts(pg), expected);
  for (const auto& table : installation_tables()) {
    std::string order_by = table == "memberships"       ? "organization_id, user_id"
                           : table == "video_view_days" ? "video_id, day"
                           : table == "server_secrets"  ? "name"
                           : table == "captions"        ? "video_id, language"
                                                        : "id";
    EXPECT_EQ(dump(pg, table, order_by), dump(*source_, table, order_by)) << table;
  }
  EXPECT_EQ(dump(pg, "memberships", "rowid"), dump(*source_, "memberships", "rowid"));
  // The identity goes on from the copied rows: a new membership sorts last.
  pg.transact(true, [](transaction& s) {
    s.exec("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ('o2', 'u2', 'member', ?)",
           {k_now});
  });
  auto after = dump(pg, "memberships", "rowid");
  ASSERT_EQ(after.size(), 6u);
  EXPECT_EQ(after.back(), "t:o2|t:u2|t:member|t:" + std::string(k_now) + "|");
}

TEST_F(copy_test, an_empty_installation_copies_as_zero_rows) {
  REEL_REQUIRE_POSTGRES();
  auto copied = copy_installation(*source_, target());
  ASSERT_EQ(copied.size(), installation_tables().size());
  for (const auto& c : copied) EXPECT_EQ(c.rows, 0) << c.table;
}

TEST_F(copy_test, a_target_holding_a_row_is_refused_and_left_as_it_was) {
  REEL_REQUIRE_POSTGRES();
  seed(10);
  auto& pg = target();
  pg.transact(true, [](transaction& s) {
    s.exec("INSERT INTO organizations (id, name, created_at) VALUES ('mine', 'Mine', ?)", {k_now});
  });
  try {
    copy_installation(*source_, pg);
    FAIL() << "copied into a target that holds a row";
  } catch (const target_not_empty& e) {
    EXPECT_EQ(e.code(), errc::conflict);
    EXPECT_STREQ(e.what(),
                 "the target database is not empty (its organizations table holds rows); reel db copy only copies "
                 "into an empty database");
  }
  auto left = counts(pg);
  EXPECT_EQ(left["organizations"], 1);
  EXPECT_EQ(left["users"] + left["sessions"] + left["memberships"] + left["videos"], 0);
}

TEST_F(copy_test, a_failure_mid_copy_leaves_the_target_empty) {
  REEL_REQUIRE_POSTGRES();
  seed();
  // The last table, after thousands of rows went in: bytes that are not
  // UTF-8, which SQLite keeps and PostgreSQL refuses.
  source_sql("UPDATE uploads SET metadata = ? WHERE id = 'up1'", {std::string("filename \xff\xfe")});
  auto& pg = target();
  try {
    copy_installation(*source_, pg);
    FAIL() << "copied text that is not UTF-8";
  } catch (const db_error& e) {
    EXPECT_TRUE(std::string_view(e.what()).starts_with("the table uploads could not be copied: ")) << e.what();
  }
  for (const auto& [table, rows] : counts(pg)) EXPECT_EQ(rows, 0) << table;
}

TEST_F(copy_test, text_with_a_nul_character_is_refused_rather_than_cut_short) {
  REEL_REQUIRE_POSTGRES();
  seed(10);
  source_sql("UPDATE videos SET title = ? WHERE id = 'v2'", {std::string("cut\0here", 8)});
  auto& pg = target();
  try {
    copy_installation(*source_, pg);
    FAIL() << "copied a NUL character";
  } catch (const db_error& e) {
    EXPECT_STREQ(e.what(),
                 "the table videos could not be copied: the column title of the row with id v2 holds text with a NUL "
                 "character, which PostgreSQL cannot store");
  }
  for (const auto& [table, rows] : counts(pg)) EXPECT_EQ(rows, 0) << table;
}

TEST_F(copy_test, a_source_at_an_older_schema_version_is_refused) {
  REEL_REQUIRE_POSTGRES();
  const auto& all = all_migrations();
  int newest = all.back().version, before = all[all.size() - 2].version;
  source_sql("DELETE FROM schema_migrations WHERE version = " + std::to_string(newest));
  try {
    copy_installation(*source_, target());
    FAIL() << "copied from an older schema";
  } catch (const db_error& e) {
    EXPECT_EQ(std::string(e.what()), "the source database is at schema version " + std::to_string(before) +
                                         " and this reel's is " + std::to_string(newest) +
                                         ": run `reel migrate` on it first");
  }
}
