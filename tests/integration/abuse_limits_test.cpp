// Issue 18's abuse limits and password policy against the real binary:
// registrations per address and in all, argon2 on its own bounded executor
// (503 + Retry-After past its queue), passwords a guesser tries first.
#include "support/api.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <future>
#include <vector>

using namespace reel::test;
namespace json = boost::json;

namespace {

json::object abuse_reg_body(const std::string& email, const std::string& password = "correct horse") {
  return {{"email", email}, {"password", password}, {"name", "Ann Example"}, {"organizationName", "Acme"}};
}

api_reply register_as(unsigned short port, const std::string& email, const std::string& password = "correct horse",
                      const std::map<std::string, std::string>& headers = {}) {
  return call(port, "POST", "/api/auth/register", "", json::serialize(abuse_reg_body(email, password)), headers);
}

std::string abuse_message_of(const api_reply& r) { return std::string(r.json.at("error").at("message").as_string()); }

}  // namespace

TEST(abuse_limits, registrations_per_address_get_429_with_retry_after) {
  server_process s({}, {{"REEL_REGISTRATIONS_PER_ADDRESS_HOUR", "3"}, {"REEL_REGISTRATIONS_PER_HOUR", "1000"}});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(register_as(s.port(), "r" + std::to_string(i) + "@example.com").status(), 201);
  // A forged X-Forwarded-For from an untrusted peer changes nothing: the
  // count is the real client's (REEL_TRUSTED_PROXIES lists no one here).
  auto refused = register_as(s.port(), "r9@example.com", "correct horse", {{"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(refused.status(), 429) << refused.raw.body();
  EXPECT_EQ(refused.error_code(), "too_many_requests");
  int retry = std::stoi(refused.header("Retry-After"));
  EXPECT_GT(retry, 3500);
  EXPECT_LE(retry, 3600);
  // Nothing was created for it.
  auto login =
      call_json(s.port(), "POST", "/api/auth/login", "", {{"email", "r9@example.com"}, {"password", "correct horse"}});
  EXPECT_EQ(login.status(), 401);
}

TEST(abuse_limits, trusted_proxies_count_each_real_client_apart) {
  server_process s({}, {{"REEL_REGISTRATIONS_PER_ADDRESS_HOUR", "1"},
                        {"REEL_REGISTRATIONS_PER_HOUR", "1000"},
                        {"REEL_TRUSTED_PROXIES", "127.0.0.1"}});
  EXPECT_EQ(register_as(s.port(), "a@example.com", "correct horse", {{"X-Forwarded-For", "198.51.100.1"}}).status(),
            201);
  EXPECT_EQ(register_as(s.port(), "b@example.com", "correct horse", {{"X-Forwarded-For", "198.51.100.2"}}).status(),
            201);
  EXPECT_EQ(register_as(s.port(), "c@example.com", "correct horse", {{"X-Forwarded-For", "198.51.100.1"}}).status(),
            429);
}

TEST(abuse_limits, registrations_in_all_are_limited_too) {
  server_process s({}, {{"REEL_REGISTRATIONS_PER_ADDRESS_HOUR", "0"}, {"REEL_REGISTRATIONS_PER_HOUR", "2"}});
  EXPECT_EQ(register_as(s.port(), "a@example.com").status(), 201);
  EXPECT_EQ(register_as(s.port(), "b@example.com").status(), 201);
  auto r = register_as(s.port(), "c@example.com");
  EXPECT_EQ(r.status(), 429);
  EXPECT_FALSE(r.header("Retry-After").empty());
}

TEST(abuse_limits, a_full_hashing_queue_answers_503_and_records_nothing) {
  // One hashing thread, no queue: of 12 registrations at once, most are
  // refused at once rather than waiting; each gets 201 or 503, nothing else.
  server_process s({}, {{"REEL_PASSWORD_HASH_THREADS", "1"}, {"REEL_PASSWORD_HASH_QUEUE", "0"}});
  std::vector<std::future<api_reply>> replies;
  for (int i = 0; i < 12; ++i)
    replies.push_back(std::async(std::launch::async,
                                 [&, i] { return register_as(s.port(), "q" + std::to_string(i) + "@example.com"); }));
  int created = 0, refused = 0;
  std::vector<int> refused_ids;
  for (int i = 0; i < 12; ++i) {
    auto r = replies[i].get();
    if (r.status() == 201) ++created;
    if (r.status() == 503) {
      ++refused;
      refused_ids.push_back(i);
      EXPECT_EQ(r.error_code(), "unavailable");
      EXPECT_FALSE(r.header("Retry-After").empty());
    }
    EXPECT_TRUE(r.status() == 201 || r.status() == 503) << r.status() << " " << r.raw.body();
  }
  EXPECT_GE(created, 1);
  EXPECT_GE(refused, 1);
  // A refused registration left nothing behind: the same email registers now.
  ASSERT_FALSE(refused_ids.empty());
  auto again = register_as(s.port(), "q" + std::to_string(refused_ids[0]) + "@example.com");
  EXPECT_EQ(again.status(), 201) << again.raw.body();
  // /healthz answered throughout (it never waits for hashing).
  EXPECT_EQ(call(s.port(), "GET", "/healthz").status(), 200);
}

TEST(abuse_limits, common_passwords_are_refused_saying_why) {
  server_process s;
  struct weak {
    const char* password;
    const char* why;
  } cases[] = {{"12345678", "simplistic"},          {"password1", "dictionary word"}, {"P@ssw0rd", "dictionary word"},
               {"sunshine2020", "dictionary word"}, {"          ", "only spaces"},    {"  abc12   ", "at least 8"},
               {"ann example", "password entry"}};
  for (const auto& c : cases) {
    auto r = register_as(s.port(), "weak@example.com", c.password);
    EXPECT_EQ(r.status(), 400) << c.password << ": " << r.raw.body();
    EXPECT_EQ(r.error_code(), "bad_request");
    EXPECT_NE(abuse_message_of(r).find("\"password\""), std::string::npos) << r.raw.body();
    EXPECT_NE(abuse_message_of(r).find(c.why), std::string::npos) << c.password << ": " << r.raw.body();
  }
  // Nothing was created by the refusals.
  EXPECT_EQ(register_as(s.port(), "weak@example.com").status(), 201);
  auto token = std::string(
      call_json(s.port(), "POST", "/api/auth/login", "", {{"email", "weak@example.com"}, {"password", "correct horse"}})
          .json.at("token")
          .as_string());
  // The same policy guards a password change, naming its field.
  auto change = call_json(s.port(), "POST", "/api/auth/password", token,
                          {{"currentPassword", "correct horse"}, {"newPassword", "qwertyuiop"}});
  EXPECT_EQ(change.status(), 400);
  EXPECT_NE(abuse_message_of(change).find("\"newPassword\" is too easy to guess"), std::string::npos)
      << change.raw.body();
  auto good = call_json(s.port(), "POST", "/api/auth/password", token,
                        {{"currentPassword", "correct horse"}, {"newPassword", "purple monkey dishwasher"}});
  EXPECT_EQ(good.status(), 204) << good.raw.body();
}

TEST(abuse_limits, a_server_without_the_password_dictionary_refuses_to_start) {
  std::string out;
  std::string dir = (std::filesystem::temp_directory_path() / ("reel-nodict-" + std::to_string(::getpid()))).string();
  int status = run_reel(
      {"serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dir, "--password-dictionary", "/nonexistent/dict"},
      {}, out);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("REEL_PASSWORD_DICTIONARY"), std::string::npos) << out;
  EXPECT_NE(out.find("cracklib-runtime"), std::string::npos) << out;
}
