// `reel db copy` against the real binary: an installation a real server made
// on SQLite moves into PostgreSQL and works the same there; a target with
// rows is refused, a failed copy leaves nothing, bad arguments get one
// sentence.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include "core/digest.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "db/sqlite.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "support/postgres.hpp"

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

headers in_org(const std::string& org) { return {{"X-Organization-Id", org}}; }

std::string db_copy_upload_raw(unsigned short port, const account& a, const std::string& org, const std::string& bytes,
                               const std::string& title) {
  auto h = in_org(org);
  h["Content-Type"] = "video/mp4";
  auto r = call(port, "POST", "/api/videos?title=" + title, a.token, bytes, h);
  if (r.status() != 201) throw std::runtime_error("upload failed: " + r.raw.body());
  return std::string(r.json.at("video").at("id").as_string());
}

// An installation made through the API of a real server on SQLite, and what
// that API answered, to hold the PostgreSQL server's answers against.
struct installation {
  std::unique_ptr<server_process> server;  // stopped at the end; keeps the data directory
  account alice, bob;
  std::string alice_password = "alice's password", bob_password = "bob's password";
  std::string shared_org;
  std::string revoked_token;  // alice's first session, ended by a logout
  std::string ready_video, failed_video;
  std::string upload_location, upload_video, upload_bytes, upload_offset;
  json::value alice_me, bob_me;
  json::value invitations;                    // alice's organization's pending ones
  std::string api_key;                        // a key of alice's organization, used once
  json::value api_keys;                       // alice's organization's keys, that one's use recorded
  std::map<std::string, json::value> videos;  // by organization
  std::string stream;                         // the ready video's MP4
  std::string captions;                       // the ready video's captions, as served

  std::string data_dir() const { return server->data_dir(); }
};

// Two users, three organizations, six memberships in four roles (three by
// accepted invitations) and one invitation pending, a video processed, one
// failed, a tus upload half done, a logout; the server stopped.
installation make_installation() {
  installation in;
  in.server = std::make_unique<server_process>(std::vector<std::string>{"--job-retry-base-ms", "100"},
                                               std::map<std::string, std::string>{{"REEL_DATABASE_URL", ""}});
  unsigned short port = in.server->port();
  in.alice = register_account(port, "alice@example.com", "Alice's", in.alice_password);
  in.bob = register_account(port, "bob@example.com", "Bob's", in.bob_password);
  auto shared = call_json(port, "POST", "/api/orgs", in.alice.token, {{"name", "Shared"}});
  in.shared_org = std::string(shared.json.at("organization").at("id").as_string());
  invite_and_accept(port, in.alice, in.shared_org, in.bob, "admin");
  invite_and_accept(port, in.alice, in.alice.org_id, in.bob, "viewer");
  invite_and_accept(port, in.bob, in.bob.org_id, in.alice, "member");
  call_json(port, "POST", "/api/orgs/" + in.alice.org_id + "/invitations", in.alice.token,
            {{"email", "carol@example.com"}, {"role", "viewer"}});

  fs::path scratch = fs::path(in.data_dir()).parent_path() / "clips";
  fs::create_directories(scratch);
  std::string clip = make_clip((scratch / "a.mp4").string());
  in.ready_video = db_copy_upload_raw(port, in.alice, in.alice.org_id, clip, "Ready");
  in.failed_video = db_copy_upload_raw(port, in.bob, in.shared_org, random_bytes(100'000, 3), "Broken");
  wait_for_processing(port, in.alice.token, in.ready_video);
  wait_for_processing(port, in.bob.token, in.failed_video, std::chrono::seconds(90), in_org(in.shared_org));
  in.stream = call(port, "GET", "/api/stream/" + in.ready_video + "/video", in.alice.token).raw.body();
  auto captioned =
      call(port, "POST", "/api/videos/" + in.ready_video + "/captions?language=fr&label=Fran%C3%A7ais", in.alice.token,
           "1\n00:00:00,000 --> 00:00:01,000\nÉté\n", {{"Content-Type", "application/x-subrip"}});
  if (captioned.status() != 201) throw std::runtime_error("captions: " + captioned.raw.body());
  in.captions = call(port, "GET", "/api/stream/" + in.ready_video + "/captions/fr.vtt", in.alice.token).raw.body();
  // That play counts a view, written in the background: the copy must find it.
  for (int i = 0; i < 100; ++i) {
    auto v = call(port, "GET", "/api/videos/" + in.ready_video, in.alice.token);
    if (v.status() == 200 && v.json.at("video").at("viewCount").to_number<std::int64_t>() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  in.upload_bytes = make_clip((scratch / "b.mp4").string(), {.seconds = 3});
  auto created = call(port, "POST", "/api/uploads", in.bob.token, "",
                      tus({{"Upload-Length", std::to_string(in.upload_bytes.size())},
                           {"Upload-Metadata", "filename " + reel::base64_encode("b.mp4")}}));
  in.upload_location = created.header("Location");
  in.upload_video = created.header("X-Video-Id");
  auto half = in.upload_bytes.substr(0, in.upload_bytes.size() / 2);
  call(port, "PATCH", in.upload_location, in.bob.token, half,
       tus({{"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}}));
  in.upload_offset = offset_of(port, in.bob.token, in.upload_location);

  in.revoked_token = in.alice.token;
  in.alice.token = std::string(login(port, in.alice.email, in.alice_password).json.at("token").as_string());
  call(port, "POST", "/api/auth/logout", in.revoked_token);

  in.alice_me = call(port, "GET", "/api/auth/me", in.alice.token).json;
  in.bob_me = call(port, "GET", "/api/auth/me", in.bob.token).json;
  in.invitations = call(port, "GET", "/api/orgs/" + in.alice.org_id + "/invitations", in.alice.token).json;
  auto key = call_json(port, "POST", "/api/orgs/" + in.alice.org_id + "/api-keys", in.alice.token,
                       {{"name", "Encoder"}, {"role", "member"}});
  in.api_key = std::string(key.json.at("secret").as_string());
  call(port, "GET", "/api/videos", in.api_key);
  for (int i = 0; i < 100; ++i) {  // its use is written in the background
    in.api_keys = call(port, "GET", "/api/orgs/" + in.alice.org_id + "/api-keys", in.alice.token).json;
    if (!in.api_keys.at("apiKeys").at(0).at("lastUsedAt").is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const auto& org : {in.alice.org_id, in.shared_org, in.bob.org_id})
    in.videos[org] = call(port, "GET", "/api/videos?limit=100", in.bob.token, "", in_org(org)).json;
  if (in.server->stop(SIGTERM) != 0) throw std::runtime_error("the SQLite server did not stop cleanly");
  return in;
}

// Rows per table in the database at `url`.
std::map<std::string, std::int64_t> rows_in(const std::string& url) {
  auto db = reel::db::open_database(url, "", 1);
  std::map<std::string, std::int64_t> out;
  db->transact(false, [&](reel::db::transaction& s) {
    for (const char* t :
         {"users", "organizations", "memberships", "sessions", "videos", "jobs", "uploads", "invitations"})
      out[t] = s.query_one(std::string("SELECT COUNT(*) FROM ") + t)->int64(0);
  });
  return out;
}

// A quick installation: one user, one queued video (no workers); the server stopped.
std::unique_ptr<server_process> small_installation() {
  auto s = std::make_unique<server_process>(std::vector<std::string>{"--workers", "0"},
                                            std::map<std::string, std::string>{{"REEL_DATABASE_URL", ""}});
  auto a = register_account(s->port(), "solo@example.com", "Solo");
  db_copy_upload_raw(s->port(), a, a.org_id, random_bytes(10'000, 5), "First");
  db_copy_upload_raw(s->port(), a, a.org_id, random_bytes(10'000, 6), "Second");
  if (s->stop(SIGTERM) != 0) throw std::runtime_error("the SQLite server did not stop cleanly");
  return s;
}

std::size_t lines_in(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

// A SQLite database migrated by this build, in a new directory; returns its path.
std::string migrated_sqlite(const fs::path& dir) {
  fs::create_directories(dir);
  reel::db::sqlite_database db((dir / "reel.db").string(), 1);
  reel::db::migrate(db, "2026-01-01T00:00:00.000Z");
  return (dir / "reel.db").string();
}

}  // namespace

TEST(db_copy, an_installation_moves_to_postgresql_and_answers_the_same) {
  REEL_REQUIRE_POSTGRES();
  auto in = make_installation();
  std::string url = postgres_server::shared().create_database();
  std::string out;
  ASSERT_EQ(run_reel({"db", "copy", "--from", "sqlite://" + in.data_dir() + "/reel.db", "--to", url}, {}, out), 0)
      << out;
  EXPECT_EQ(out,
            "copied users 2, organizations 3, memberships 6, sessions 3, videos 3, jobs 2, uploads 1, "
            "password_resets 0, invitations 4, api_keys 1, server_secrets 1, video_view_days 1, captions 1, "
            "webhook_endpoints 0, webhook_messages 0, webhook_deliveries 0\n"
            "The data directory is unchanged: the blob files stay where they are, so run reel on PostgreSQL with the "
            "same data directory as before.\n");

  server_process pg({"--data-dir", in.data_dir(), "--job-retry-base-ms", "100"}, {{"REEL_DATABASE_URL", url}});
  unsigned short port = pg.port();
  EXPECT_EQ(login(port, in.alice.email, in.alice_password).status(), 200);
  EXPECT_EQ(login(port, in.bob.email, in.bob_password).status(), 200);
  EXPECT_EQ(login(port, in.bob.email, in.alice_password).status(), 401);
  EXPECT_EQ(call(port, "GET", "/api/auth/me", in.revoked_token).status(), 401);
  EXPECT_EQ(json::serialize(call(port, "GET", "/api/auth/me", in.alice.token).json), json::serialize(in.alice_me));
  EXPECT_EQ(json::serialize(call(port, "GET", "/api/auth/me", in.bob.token).json), json::serialize(in.bob_me));
  auto invitations = call(port, "GET", "/api/orgs/" + in.alice.org_id + "/invitations", in.alice.token).json;
  EXPECT_EQ(invitations.at("invitations").as_array().size(), 1u);
  EXPECT_EQ(json::serialize(invitations), json::serialize(in.invitations));
  for (const auto& [org, list] : in.videos) {
    auto now = call(port, "GET", "/api/videos?limit=100", in.bob.token, "", in_org(org)).json;
    EXPECT_EQ(json::serialize(now), json::serialize(list)) << org;
  }
  auto keys = call(port, "GET", "/api/orgs/" + in.alice.org_id + "/api-keys", in.alice.token).json;
  EXPECT_FALSE(in.api_keys.at("apiKeys").at(0).at("lastUsedAt").is_null());
  EXPECT_EQ(json::serialize(keys), json::serialize(in.api_keys));
  EXPECT_EQ(json::serialize(call(port, "GET", "/api/videos?limit=100", in.api_key).json),
            json::serialize(in.videos[in.alice.org_id]));
  EXPECT_EQ(call(port, "GET", "/api/stream/" + in.ready_video + "/video", in.alice.token).raw.body(), in.stream);
  EXPECT_EQ(in.captions, "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nÉté\n");
  EXPECT_EQ(call(port, "GET", "/api/stream/" + in.ready_video + "/captions/fr.vtt", in.alice.token).raw.body(),
            in.captions);

  // The upload resumes where it stood, and its video is processed on PostgreSQL.
  ASSERT_EQ(offset_of(port, in.bob.token, in.upload_location), in.upload_offset);
  std::size_t offset = std::stoul(in.upload_offset);
  auto rest = call(port, "PATCH", in.upload_location, in.bob.token, in.upload_bytes.substr(offset),
                   tus({{"Upload-Offset", in.upload_offset}, {"Content-Type", "application/offset+octet-stream"}}));
  EXPECT_EQ(rest.status(), 204) << rest.raw.body();
  auto done = wait_for_processing(port, in.bob.token, in.upload_video);
  EXPECT_EQ(done.at("status"), "ready") << json::serialize(done);
}

TEST(db_copy, a_target_that_holds_rows_is_refused_and_left_as_it_was) {
  REEL_REQUIRE_POSTGRES();
  auto s = small_installation();
  std::string url = postgres_server::shared().create_database();
  std::string pg_url = "postgresql://" + url.substr(url.find("://") + 3);
  std::string out;
  ASSERT_EQ(run_reel({"db", "copy", "--from", s->data_dir() + "/reel.db", "--to", pg_url}, {}, out), 0) << out;
  EXPECT_TRUE(out.starts_with(
      "copied users 1, organizations 1, memberships 1, sessions 1, videos 2, jobs 2, "
      "uploads 0, password_resets 0, invitations 0, api_keys 0, server_secrets 1, video_view_days 0, captions 0, "
      "webhook_endpoints 0, webhook_messages 0, webhook_deliveries 0\n"))
      << out;
  auto before = rows_in(url);

  EXPECT_EQ(run_reel({"db", "copy", "--from", s->data_dir(), "--to", pg_url}, {}, out), 1);
  EXPECT_EQ(out,
            "reel db copy: the target database is not empty (its users table holds rows); reel db copy only copies "
            "into an empty database.\n");
  EXPECT_EQ(rows_in(url), before);
}

TEST(db_copy, a_failure_in_the_middle_leaves_the_target_empty) {
  REEL_REQUIRE_POSTGRES();
  auto s = small_installation();
  {
    // Bytes that are not UTF-8 in a video's title: SQLite keeps them,
    // PostgreSQL refuses them, after users, organizations, memberships and
    // sessions went in.
    reel::db::sqlite_database db(s->data_dir() + "/reel.db", 1);
    db.transact(true, [](reel::db::transaction& t) {
      t.exec("UPDATE videos SET title = ? WHERE title = 'Second'", {std::string("Sec\xff\xfend")});
    });
  }
  std::string url = postgres_server::shared().create_database();
  std::string out;
  EXPECT_EQ(run_reel({"db", "copy", "--from", s->data_dir() + "/reel.db", "--to", url}, {}, out), 1);
  EXPECT_TRUE(out.starts_with("reel db copy: nothing was copied: the table videos could not be copied: ")) << out;
  EXPECT_EQ(lines_in(out), 1u) << out;
  for (const auto& [table, rows] : rows_in(url)) EXPECT_EQ(rows, 0) << table;
}

TEST(db_copy, bad_arguments_get_one_sentence_and_never_the_password) {
  fs::path dir = fs::temp_directory_path() / ("reel-db-copy-" + std::to_string(::getpid()));
  std::string source = migrated_sqlite(dir);
  std::string out;

  EXPECT_EQ(run_reel({"db", "copy", "--from", (dir / "missing.db").string(), "--to", "postgres:///x"}, {}, out), 1);
  EXPECT_EQ(out, "reel db copy: the source database " + (dir / "missing.db").string() + " does not exist.\n");
  EXPECT_FALSE(fs::exists(dir / "missing.db"));

  EXPECT_EQ(run_reel({"db", "copy", "--from", source, "--to", "mysql://root:pw@db/reel"}, {}, out), 1);
  EXPECT_EQ(out, "reel db copy: --to must be a PostgreSQL URL (postgres://... or postgresql://...).\n");

  EXPECT_EQ(run_reel({"db", "copy", "--from", "postgres://a@b/c", "--to", "postgres:///x"}, {}, out), 1);
  EXPECT_EQ(out, "reel db copy: --from must name a SQLite database (sqlite:///path/reel.db, or its path).\n");

  EXPECT_EQ(
      run_reel({"db", "copy", "--from", source, "--to", "postgres://reel:hunter2-secret@127.0.0.1:1/reel"}, {}, out),
      1);
  EXPECT_TRUE(out.starts_with("reel db copy: cannot connect to PostgreSQL at 127.0.0.1:1 (database reel): ")) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_EQ(lines_in(out), 1u) << out;

  EXPECT_EQ(run_reel({"db", "copy", "--from", source, "postgres://reel:hunter2-secret@db/reel"}, {}, out), 2);
  EXPECT_EQ(out,
            "reel db copy: an argument without a flag (the flags are --from and --to). `reel db copy --help` shows "
            "how to use it.\n");
  EXPECT_EQ(run_reel({"db", "copy", "--from", source, "--too=postgres://reel:hunter2-secret@db/reel"}, {}, out), 2);
  EXPECT_EQ(out, "reel db copy: unknown flag --too. `reel db copy --help` shows how to use it.\n");
  EXPECT_EQ(run_reel({"db", "copy", "--to", "postgres:///x"}, {}, out), 2);
  EXPECT_TRUE(out.starts_with("reel db copy: --from is missing")) << out;
  EXPECT_EQ(run_reel({"db", "copy", "--help"}, {}, out), 0);
  EXPECT_TRUE(out.starts_with("usage: reel db copy --from SOURCE --to TARGET\n")) << out;
  EXPECT_EQ(run_reel({"db"}, {}, out), 2);
  fs::remove_all(dir);
}
