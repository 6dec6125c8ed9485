// docs/API.md "Password reset", end to end against the real binary: the
// operator's link (`reel user reset-password`), POST /api/auth/reset and
// POST /api/auth/forgot mailing a link through a real SMTP server on
// loopback (tests/support/smtp_sink).
#include "db/database.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis.hpp"
#include "support/smtp_sink.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <regex>
#include <set>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_password = "correct horse";

api_reply redeem(unsigned short port, const std::string& token, const std::string& password,
                 std::map<std::string, std::string> headers = {}) {
  return call_json(port, "POST", "/api/auth/reset", "", {{"token", token}, {"newPassword", password}},
                   std::move(headers));
}

api_reply forgot(unsigned short port, const std::string& email, std::map<std::string, std::string> headers = {}) {
  return call_json(port, "POST", "/api/auth/forgot", "", {{"email", email}}, std::move(headers));
}

std::string recovery_error_message(const api_reply& r) {
  return r.json.is_object() ? std::string(r.json.at("error").at("message").as_string()) : "";
}

// `reel user reset-password EMAIL` on the server's data directory and database.
std::pair<int, std::string> reset_command(const std::string& data_dir, const std::string& email,
                                          std::vector<std::string> extra = {}) {
  std::map<std::string, std::string> env;
  if (auto url = test_database_url(data_dir); !url.empty()) env["REEL_DATABASE_URL"] = url;
  std::vector<std::string> args = {"user", "reset-password", email, "--data-dir", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  std::string out;
  int status = run_reel(args, env, out);
  return {status, out};
}

std::string link_in(const std::string& text) {
  std::smatch m;
  static const std::regex link(R"((\S+/#/reset-password/[A-Za-z0-9_-]{43}))");
  return std::regex_search(text, m, link) ? m[1].str() : "";
}

std::string token_in(const std::string& text) {
  std::string link = link_in(text);
  return link.empty() ? "" : link.substr(link.size() - 43);
}

std::string new_link_token(const server_process& s, const std::string& email) {
  auto [status, out] = reset_command(s.data_dir(), email);
  EXPECT_EQ(status, 0) << out;
  return token_in(out);
}

// Runs `sql` on the server's own database (SQLite file or PostgreSQL).
void on_database(const server_process& s, const std::string& sql) {
  auto db = reel::db::open_database(test_database_url(s.data_dir()), s.data_dir(), 1);
  db->transact(true, [&](reel::db::transaction& t) { t.exec(sql); });
}

std::map<std::string, std::string> smtp_env(const smtp_sink& sink) {
  return {{"REEL_SMTP_URL", sink.url()}, {"REEL_SMTP_FROM", "reel <reel@example.com>"}};
}

}  // namespace

TEST(recovery, the_command_prints_a_link_whose_token_sets_a_new_password_and_ends_every_session) {
  server_process s;
  auto a = register_account(s.port(), "ann@example.com", "Acme");
  auto other = login(s.port(), "ann@example.com", k_password);
  ASSERT_EQ(other.status(), 200);
  std::string other_token(other.json.at("token").as_string());
  auto bob = register_account(s.port(), "bob@example.com", "Bobs");

  auto [status, out] = reset_command(s.data_dir(), " ANN@example.com");
  ASSERT_EQ(status, 0) << out;
  EXPECT_TRUE(link_in(out).starts_with("http://localhost:8080/#/reset-password/")) << out;
  EXPECT_NE(out.find("1 hour"), std::string::npos) << out;
  std::string token = token_in(out);
  ASSERT_EQ(token.size(), 43u) << out;

  auto done = redeem(s.port(), token, "a brand new password");
  EXPECT_EQ(done.status(), 204) << done.raw.body();
  EXPECT_EQ(done.header("Cache-Control"), "no-store");
  // Every session of the user ended, as token and as cookie.
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", a.token).status(), 401);
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", other_token).status(), 401);
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", "", "", {{"Cookie", "reel_session=" + a.token}}).status(), 401);
  // Another user's session goes on.
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", bob.token).status(), 200);
  EXPECT_EQ(login(s.port(), "ann@example.com", k_password).status(), 401);
  EXPECT_EQ(login(s.port(), "ann@example.com", "a brand new password").status(), 200);

  // The link works once.
  auto again = redeem(s.port(), token, "yet another password");
  EXPECT_EQ(again.status(), 400);
  EXPECT_EQ(again.error_code(), "bad_request");
  EXPECT_NE(recovery_error_message(again).find("token"), std::string::npos) << again.raw.body();
  EXPECT_EQ(login(s.port(), "ann@example.com", "a brand new password").status(), 200);
  EXPECT_EQ(s.log().find(token), std::string::npos);
  EXPECT_EQ(s.log().find("a brand new password"), std::string::npos);
}

TEST(recovery, the_command_names_the_public_url_and_refuses_unknown_emails_and_bad_usage) {
  server_process s;
  register_account(s.port(), "ann@example.com", "Acme");
  auto [status, out] = reset_command(s.data_dir(), "ann@example.com", {"--public-url", "https://videos.example.com/"});
  EXPECT_EQ(status, 0) << out;
  EXPECT_TRUE(link_in(out).starts_with("https://videos.example.com/#/reset-password/")) << out;

  auto [unknown, unknown_out] = reset_command(s.data_dir(), "nobody@example.com");
  EXPECT_EQ(unknown, 1);
  EXPECT_NE(unknown_out.find("no account has the email nobody@example.com"), std::string::npos) << unknown_out;
  EXPECT_EQ(link_in(unknown_out), "");

  auto [bad, bad_out] = reset_command(s.data_dir(), "not-an-email");
  EXPECT_EQ(bad, 2);
  EXPECT_NE(bad_out.find("not an email address"), std::string::npos) << bad_out;
  std::string text;
  EXPECT_EQ(run_reel({"user", "reset-password"}, {}, text), 2);
  EXPECT_NE(text.find("usage: reel user reset-password EMAIL"), std::string::npos) << text;
  EXPECT_EQ(run_reel({"user", "delete"}, {}, text), 2);
  EXPECT_EQ(run_reel({"help"}, {}, text), 0);
  EXPECT_NE(text.find("user reset-password EMAIL"), std::string::npos) << text;
  EXPECT_EQ(run_reel({"user", "reset-password", "ann@example.com", "--no-such-flag", "1"}, {}, text), 2);
}

TEST(recovery, an_expired_link_is_refused_and_changes_nothing) {
  server_process s;
  auto a = register_account(s.port(), "ann@example.com", "Acme");
  std::string token = new_link_token(s, "ann@example.com");
  on_database(s, "UPDATE password_resets SET expires_at = '2001-01-01T00:00:00.000Z'");
  auto r = redeem(s.port(), token, "a brand new password");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.error_code(), "bad_request");
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", a.token).status(), 200);
  EXPECT_EQ(login(s.port(), "ann@example.com", k_password).status(), 200);
}

TEST(recovery, a_newer_link_spends_the_older_one) {
  server_process s;
  register_account(s.port(), "ann@example.com", "Acme");
  std::string first = new_link_token(s, "ann@example.com");
  std::string second = new_link_token(s, "ann@example.com");
  EXPECT_EQ(redeem(s.port(), first, "a brand new password").status(), 400);
  EXPECT_EQ(redeem(s.port(), second, "a brand new password").status(), 204);
}

TEST(recovery, of_two_redemptions_at_once_one_wins) {
  server_process s;
  register_account(s.port(), "ann@example.com", "Acme");
  for (int round = 0; round < 3; ++round) {
    std::string token = new_link_token(s, "ann@example.com");
    std::promise<void> go;
    auto start = go.get_future().share();
    auto attempt = [&](std::string password) {
      start.wait();
      return std::make_pair(redeem(s.port(), token, password).status(), password);
    };
    auto x = std::async(std::launch::async, attempt, "first password " + std::to_string(round));
    auto y = std::async(std::launch::async, attempt, "second password " + std::to_string(round));
    go.set_value();
    auto a = x.get(), b = y.get();
    EXPECT_EQ((std::multiset<unsigned>{a.first, b.first}), (std::multiset<unsigned>{204, 400}));
    const auto& winner = a.first == 204 ? a.second : b.second;
    const auto& loser = a.first == 204 ? b.second : a.second;
    EXPECT_EQ(login(s.port(), "ann@example.com", winner).status(), 200);
    EXPECT_EQ(login(s.port(), "ann@example.com", loser).status(), 401);
  }
}

TEST(recovery, bad_bodies_are_400_and_leave_the_link_usable) {
  server_process s;
  register_account(s.port(), "ann@example.com", "Acme");
  std::string token = new_link_token(s, "ann@example.com");
  auto p = s.port();
  auto expect_400 = [](const api_reply& r, const std::string& words) {
    EXPECT_EQ(r.status(), 400) << r.raw.body();
    EXPECT_EQ(r.error_code(), "bad_request");
    EXPECT_NE(recovery_error_message(r).find(words), std::string::npos) << r.raw.body();
  };
  expect_400(redeem(p, token, "short"), "newPassword");
  expect_400(redeem(p, token, "        "), "newPassword");
  expect_400(redeem(p, token, "password123"), "newPassword");  // the password policy: too easy to guess
  expect_400(call_json(p, "POST", "/api/auth/reset", "", {{"token", token}}), "newPassword");
  expect_400(call_json(p, "POST", "/api/auth/reset", "", {{"newPassword", "long enough password"}}), "token");
  expect_400(call_json(p, "POST", "/api/auth/reset", "", {{"token", 42}, {"newPassword", "long enough password"}}),
             "token");
  expect_400(redeem(p, "", "long enough password"), "token");
  expect_400(redeem(p, std::string(43, 'A'), "long enough password"), "token");  // well shaped, unknown
  expect_400(redeem(p, "../../etc/passwd", "long enough password"), "token");
  expect_400(call(p, "POST", "/api/auth/reset", "", "[1,2]"), "JSON object");
  expect_400(call(p, "POST", "/api/auth/reset", "", "{\"token\": "), "not valid JSON");
  EXPECT_EQ(call(p, "POST", "/api/auth/reset", "", "token=x", {{"Content-Type", "application/x-www-form-urlencoded"}})
                .status(),
            415);
  EXPECT_EQ(call(p, "GET", "/api/auth/reset").status(), 405);
  // None of that spent the link.
  EXPECT_EQ(redeem(p, token, "long enough password").status(), 204);
}

TEST(recovery, a_logged_out_browser_can_reset_and_ask_for_a_link) {
  smtp_sink sink;
  server_process s({}, smtp_env(sink));
  auto a = register_account(s.port(), "ann@example.com", "Acme");
  ASSERT_EQ(call(s.port(), "POST", "/api/auth/logout", a.token).status(), 204);
  std::string origin = "http://127.0.0.1:" + std::to_string(s.port());
  // What a browser sends from the page: its origin, and the cookie of the
  // ended session still in its jar.
  std::map<std::string, std::string> browser{
      {"Origin", origin}, {"Sec-Fetch-Site", "same-origin"}, {"Cookie", "reel_session=" + a.token}};
  EXPECT_EQ(forgot(s.port(), "ann@example.com", browser).status(), 202);
  ASSERT_TRUE(sink.wait_for(1));
  std::string token = token_in(sink.messages()[0].body());
  EXPECT_EQ(redeem(s.port(), token, "a brand new password", browser).status(), 204);
  EXPECT_EQ(login(s.port(), "ann@example.com", "a brand new password").status(), 200);
}

TEST(recovery, forgot_mails_a_working_link_and_says_the_same_for_unknown_emails) {
  smtp_sink sink;
  auto env = smtp_env(sink);
  env["REEL_METRICS_TOKEN"] = "metrics-token-for-tests";
  server_process s({}, env);
  auto a = register_account(s.port(), "ann@example.com", "Acme");

  auto timed = [&](const std::string& email) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = forgot(s.port(), email);
    return std::make_pair(r, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  auto [unknown, unknown_took] = timed("nobody@example.com");
  EXPECT_EQ(unknown.status(), 202) << unknown.raw.body();
  ASSERT_TRUE(s.wait_for_log("route=/api/auth/forgot status=202"));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(sink.messages().empty());  // no account: nothing mailed
  auto [known, known_took] = timed(" ANN@example.com");
  EXPECT_EQ(known.status(), 202);
  EXPECT_EQ(known.raw.body(), unknown.raw.body());
  EXPECT_EQ(known.header("Content-Type"), unknown.header("Content-Type"));
  // Neither answer waits for the database or the mail: both come at once.
  EXPECT_LT(unknown_took, 0.25);
  EXPECT_LT(known_took, 0.25);

  ASSERT_TRUE(sink.wait_for(1));
  auto mail = sink.messages()[0];
  EXPECT_EQ(mail.rcpt_to, std::vector<std::string>{"ann@example.com"});
  EXPECT_EQ(mail.mail_from, "reel@example.com");
  EXPECT_EQ(mail.header("Subject"), "Reset your reel password");
  EXPECT_EQ(mail.header("To"), "ann@example.com");
  std::string link = link_in(mail.body());
  EXPECT_TRUE(link.starts_with("http://localhost:" + std::to_string(s.port()) + "/#/reset-password/")) << mail.body();
  EXPECT_NE(mail.body().find("1 hour"), std::string::npos) << mail.body();
  EXPECT_EQ(redeem(s.port(), token_in(link), "a brand new password").status(), 204);
  EXPECT_EQ(call(s.port(), "GET", "/api/auth/me", a.token).status(), 401);
  EXPECT_EQ(login(s.port(), "ann@example.com", "a brand new password").status(), 200);
  EXPECT_EQ(sink.messages().size(), 1u);
  auto metrics = call(s.port(), "GET", "/metrics", "metrics-token-for-tests");
  EXPECT_NE(metrics.raw.body().find("\nreel_emails_sent_total 1\n"), std::string::npos) << metrics.raw.body();
  EXPECT_NE(metrics.raw.body().find("\nreel_emails_pending 0\n"), std::string::npos);
}

TEST(recovery, forgot_mails_an_account_three_links_an_hour_at_most) {
  smtp_sink sink;
  server_process s({}, smtp_env(sink));
  register_account(s.port(), "ann@example.com", "Acme");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(forgot(s.port(), "ann@example.com").status(), 202);
  ASSERT_TRUE(sink.wait_for(3));
  auto fourth = forgot(s.port(), "ann@example.com");
  EXPECT_EQ(fourth.status(), 202);  // the same answer, but nothing is sent
  EXPECT_TRUE(s.wait_for_log("password reset link not mailed"));
  std::this_thread::sleep_for(300ms);
  auto mails = sink.messages();
  EXPECT_EQ(mails.size(), 3u);
  // Only the newest link works.
  std::vector<std::string> tokens;
  for (const auto& m : mails) tokens.push_back(token_in(m.body()));
  EXPECT_EQ(std::set<std::string>(tokens.begin(), tokens.end()).size(), 3u);
  int worked = 0;
  for (const auto& t : tokens) worked += redeem(s.port(), t, "a brand new password").status() == 204;
  EXPECT_EQ(worked, 1);
}

TEST(recovery, forgot_is_limited_per_client_address) {
  server_process s({}, {{"REEL_TRUSTED_PROXIES", "127.0.0.1"}});
  auto from = [&](const std::string& address) {
    return forgot(s.port(), "someone@example.com", {{"X-Forwarded-For", address}});
  };
  for (int i = 0; i < 10; ++i) EXPECT_EQ(from("203.0.113.7").status(), 202) << i;
  auto refused = from("203.0.113.7");
  EXPECT_EQ(refused.status(), 429);
  EXPECT_EQ(refused.error_code(), "too_many_requests");
  int retry = std::stoi(refused.header("Retry-After"));
  EXPECT_GT(retry, 3000);
  EXPECT_LE(retry, 3600);
  EXPECT_EQ(from("203.0.113.8").status(), 202);  // another client behind the same proxy
}

TEST(recovery, forgot_without_a_mailer_answers_alike_and_logs_why_nothing_was_sent) {
  server_process s;
  register_account(s.port(), "ann@example.com", "Acme");
  auto r = forgot(s.port(), "ann@example.com");
  EXPECT_EQ(r.status(), 202);
  EXPECT_TRUE(s.wait_for_log("no mailer is configured"));
  auto bad = forgot(s.port(), "not an email");
  EXPECT_EQ(bad.status(), 400);
  EXPECT_NE(recovery_error_message(bad).find("email"), std::string::npos);
  auto missing = call_json(s.port(), "POST", "/api/auth/forgot", "", json::object{});
  EXPECT_EQ(missing.status(), 400);
  EXPECT_NE(recovery_error_message(missing).find("email"), std::string::npos);
}

TEST(recovery, a_mail_server_that_cannot_be_reached_is_logged_without_its_password) {
  unsigned short closed = 0;
  {
    smtp_sink gone;
    closed = gone.port();
  }
  std::string url = "smtp://mailer:topsecretpw@127.0.0.1:" + std::to_string(closed) + "?starttls=never";
  server_process s({}, {{"REEL_SMTP_URL", url}});
  register_account(s.port(), "ann@example.com", "Acme");
  EXPECT_EQ(forgot(s.port(), "ann@example.com").status(), 202);
  EXPECT_TRUE(s.wait_for_log("email not sent yet; trying again later"));
  EXPECT_NE(s.log().find("127.0.0.1:" + std::to_string(closed)), std::string::npos);
  EXPECT_EQ(s.log().find("topsecretpw"), std::string::npos) << s.log();
}

TEST(recovery, mail_goes_over_smtps_with_a_certificate_the_system_trusts) {
  auto dir = std::filesystem::temp_directory_path() / ("reel-recovery-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto [cert, key] = make_test_certificate(dir.string());
  smtp_sink sink({.user = "mailer", .password = "p@ss", .cert_file = cert, .key_file = key, .implicit_tls = true});
  // SSL_CERT_FILE: OpenSSL's system store is this certificate for the server.
  server_process s({}, {{"REEL_SMTP_URL", "smtps://mailer:p%40ss@localhost:" + std::to_string(sink.port())},
                        {"SSL_CERT_FILE", cert}});
  register_account(s.port(), "ann@example.com", "Acme");
  EXPECT_EQ(forgot(s.port(), "ann@example.com").status(), 202);
  ASSERT_TRUE(sink.wait_for(1)) << s.log();
  EXPECT_TRUE(sink.messages()[0].tls);
  EXPECT_EQ(sink.messages()[0].auth_user, "mailer");
  EXPECT_EQ(redeem(s.port(), token_in(sink.messages()[0].body()), "a brand new password").status(), 204);
  std::filesystem::remove_all(dir);
}

TEST(recovery, a_bad_smtp_url_stops_the_server_with_a_sentence_that_hides_the_password) {
  auto dir = std::filesystem::temp_directory_path() / ("reel-recovery-url-" + std::to_string(::getpid()));
  std::string out;
  int status = run_reel({"serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", dir.string(), "--smtp-url",
                         "smtp://u:topsecretpw@host:99999"},
                        {}, out);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("REEL_SMTP_URL"), std::string::npos) << out;
  EXPECT_EQ(out.find("topsecretpw"), std::string::npos) << out;
}

// Cluster-wide: a reset through one node ends the sessions another node has
// cached, at once (through Redis), not after its cache's minute.
TEST(recovery, a_reset_on_one_node_ends_the_sessions_on_another) {
  if (!testing_postgres()) GTEST_SKIP() << "several nodes share PostgreSQL (REEL_TEST_BACKEND=postgres)";
  REEL_REQUIRE_REDIS();
  std::map<std::string, std::string> env{{"REEL_REDIS_URL", redis_server::shared().url()}};
  server_process one({}, env);
  server_process two({"--data-dir", one.data_dir()}, env);
  register_account(one.port(), "ann@example.com", "Acme");
  auto there = login(two.port(), "ann@example.com", k_password);
  ASSERT_EQ(there.status(), 200);
  std::string token(there.json.at("token").as_string());
  ASSERT_EQ(call(two.port(), "GET", "/api/auth/me", token).status(), 200);  // now cached on node two
  std::string link = new_link_token(one, "ann@example.com");
  ASSERT_EQ(redeem(one.port(), link, "a brand new password").status(), 204);
  auto deadline = std::chrono::steady_clock::now() + 2s;
  unsigned status = 200;
  while (status != 401 && std::chrono::steady_clock::now() < deadline) {
    status = call(two.port(), "GET", "/api/auth/me", token).status();
    if (status != 401) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 401);
}
