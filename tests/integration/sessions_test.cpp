// docs/API.md "Authentication and tenancy": a user's sessions, listed and
// ended one by one, against the real binary.
#include "support/api.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>

using namespace reel::test;
namespace json = boost::json;

namespace {

// Logs in as `email` with `headers` (a User-Agent, X-Forwarded-For); returns the token.
std::string login_as(unsigned short port, const std::string& email, std::map<std::string, std::string> headers = {}) {
  auto r = call_json(port, "POST", "/api/auth/login", "", {{"email", email}, {"password", "correct horse"}},
                     std::move(headers));
  if (r.status() != 200) throw std::runtime_error("login failed: " + r.raw.body());
  return std::string(r.json.at("token").as_string());
}

// GET /api/auth/sessions as `token`: its sessions (fails the test unless 200).
json::array sessions_of(unsigned short port, const std::string& token) {
  auto r = call(port, "GET", "/api/auth/sessions", token);
  EXPECT_EQ(r.status(), 200) << r.raw.body();
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  if (r.status() != 200) return {};
  return r.json.at("sessions").as_array();
}

// The id of the session `token` acts through (the one its list marks current).
std::string current_id(unsigned short port, const std::string& token) {
  for (const auto& s : sessions_of(port, token))
    if (s.at("current").as_bool()) return std::string(s.at("id").as_string());
  ADD_FAILURE() << "no current session";
  return "";
}

api_reply end_session(unsigned short port, const std::string& token, const std::string& id) {
  return call(port, "DELETE", "/api/auth/sessions/" + id, token);
}

int me(unsigned short port, const std::string& token) {
  return static_cast<int>(call(port, "GET", "/api/auth/me", token).status());
}

}  // namespace

TEST(sessions, the_list_shows_each_login_with_its_user_agent_and_marks_the_current_one) {
  server_process s;
  auto p = s.port();
  register_account(p, "ann@example.com", "Acme");  // a third session, without a User-Agent
  std::string laptop = login_as(p, "ann@example.com", {{"User-Agent", "Mozilla/5.0 (X11; Linux) Firefox/128.0"}});
  std::string phone = login_as(p, "ann@example.com", {{"User-Agent", "reel-mobile/2.1 (Android 14)"}});
  auto list = sessions_of(p, phone);
  ASSERT_EQ(list.size(), 3u) << json::serialize(list);
  std::map<std::string, json::object> by_agent;
  for (const auto& v : list) {
    const auto& o = v.as_object();
    for (const char* key : {"id", "createdAt", "lastUsedAt", "expiresAt", "address", "userAgent", "current"})
      EXPECT_TRUE(o.contains(key)) << key;
    EXPECT_EQ(o.size(), 7u) << json::serialize(o);  // no token, no hash
    EXPECT_EQ(o.at("address"), "127.0.0.1");
    EXPECT_GE(o.at("lastUsedAt").as_string(), o.at("createdAt").as_string());
    EXPECT_GT(o.at("expiresAt").as_string(), o.at("createdAt").as_string());
    std::string agent = o.at("userAgent").is_null() ? "none" : std::string(o.at("userAgent").as_string());
    by_agent[agent] = o;
  }
  ASSERT_EQ(by_agent.size(), 3u);
  EXPECT_TRUE(by_agent.at("reel-mobile/2.1 (Android 14)").at("current").as_bool());
  EXPECT_FALSE(by_agent.at("Mozilla/5.0 (X11; Linux) Firefox/128.0").at("current").as_bool());
  EXPECT_FALSE(by_agent.at("none").at("current").as_bool());  // the test client sends no User-Agent
  // Most recently used first: the newest login leads (none has been used since).
  EXPECT_EQ(list[0].at("userAgent"), "reel-mobile/2.1 (Android 14)");
  // The same list, seen from the laptop, marks the laptop.
  for (const auto& v : sessions_of(p, laptop))
    EXPECT_EQ(v.at("current").as_bool(), v.at("userAgent") == "Mozilla/5.0 (X11; Linux) Firefox/128.0");
  EXPECT_EQ(s.log().find(laptop), std::string::npos);
}

TEST(sessions, the_user_agent_is_kept_clean_and_short_and_the_address_is_the_forwarded_one_behind_a_proxy) {
  server_process s({}, {{"REEL_TRUSTED_PROXIES", "127.0.0.1"}});
  auto p = s.port();
  std::string long_agent = "Agent/1.0 " + std::string(400, 'x');
  auto reg = call_json(
      p, "POST", "/api/auth/register", "",
      {{"email", "ua@example.com"}, {"password", "correct horse"}, {"name", "Ua"}, {"organizationName", "Acme"}},
      {{"User-Agent", long_agent}, {"X-Forwarded-For", "198.51.100.7"}});
  ASSERT_EQ(reg.status(), 201) << reg.raw.body();
  // Bytes that are not UTF-8 and a tab (both allowed in a header) are dropped.
  std::string token =
      login_as(p, "ua@example.com",
               {{"User-Agent", "Bad\xff\xfe\tAgent \xc3\xa9t\xc3\xa9"}, {"X-Forwarded-For", "2001:db8::9"}});
  std::map<std::string, std::string> address_of;
  for (const auto& v : sessions_of(p, token))
    address_of[std::string(v.at("userAgent").as_string())] = std::string(v.at("address").as_string());
  ASSERT_EQ(address_of.size(), 2u);
  EXPECT_EQ(address_of.at(long_agent.substr(0, 256)), "198.51.100.7");
  EXPECT_EQ(address_of.at("BadAgent \xc3\xa9t\xc3\xa9"), "2001:db8::9");
}

TEST(sessions, ending_another_session_refuses_its_token_at_once_and_keeps_this_one) {
  server_process s;
  auto p = s.port();
  auto a = register_account(p, "end@example.com", "Acme");
  std::string other = login_as(p, "end@example.com", {{"User-Agent", "Other"}});
  EXPECT_EQ(me(p, other), 200);  // cached by the server now
  std::string other_id = current_id(p, other);
  auto ended = end_session(p, a.token, other_id);
  EXPECT_EQ(ended.status(), 204) << ended.raw.body();
  EXPECT_EQ(ended.header("Set-Cookie"), "");  // not the current session: the cookie stays
  EXPECT_EQ(me(p, other), 401);
  EXPECT_EQ(me(p, a.token), 200);
  auto left = sessions_of(p, a.token);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].at("current").as_bool());
  // Ended already, or never one: the same 404.
  for (const std::string& id : {other_id, std::string("AAAAAAAAAAAAAAAA")}) {
    auto again = end_session(p, a.token, id);
    EXPECT_EQ(again.status(), 404) << id;
    EXPECT_EQ(again.error_code(), "not_found");
  }
}

TEST(sessions, ending_the_current_session_is_a_logout_and_clears_the_cookie) {
  server_process s;
  auto p = s.port();
  auto a = register_account(p, "self@example.com", "Acme");
  std::string other = login_as(p, "self@example.com");
  auto ended = call(p, "DELETE", "/api/auth/sessions/" + current_id(p, a.token), "", "",
                    {{"Cookie", "reel_session=" + a.token}});
  EXPECT_EQ(ended.status(), 204) << ended.raw.body();
  EXPECT_NE(ended.header("Set-Cookie").find("reel_session=;"), std::string::npos);
  EXPECT_NE(ended.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(me(p, a.token), 401);
  EXPECT_EQ(me(p, other), 200);
}

TEST(sessions, another_users_session_is_not_found_and_goes_on) {
  server_process s;
  auto p = s.port();
  auto ann = register_account(p, "ann@example.com", "Acme");
  auto bob = register_account(p, "bob@example.com", "Bobs");
  std::string bobs_id = current_id(p, bob.token);
  auto r = end_session(p, ann.token, bobs_id);
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(r.error_code(), "not_found");
  EXPECT_EQ(me(p, bob.token), 200);
  // Nor does the list show another user's sessions.
  auto list = sessions_of(p, ann.token);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_NE(list[0].at("id").as_string(), bobs_id);
}

TEST(sessions, anonymous_and_revoked_callers_are_401_and_malformed_ids_404) {
  server_process s;
  auto p = s.port();
  auto a = register_account(p, "who@example.com", "Acme");
  std::string spare = login_as(p, "who@example.com");
  std::string spare_id = current_id(p, spare);
  EXPECT_EQ(call(p, "GET", "/api/auth/sessions").status(), 401);
  auto anonymous = end_session(p, "", spare_id);
  EXPECT_EQ(anonymous.status(), 401);
  EXPECT_EQ(anonymous.error_code(), "unauthorized");
  for (const std::string& bad : {std::string("..%2F..%2Fetc"), std::string("%00"), std::string(300, 'a'),
                                 std::string("a%20b"), std::string("%C3%A9")}) {
    auto r = end_session(p, a.token, bad);
    EXPECT_EQ(r.status(), 404) << bad;
    EXPECT_EQ(r.error_code(), "not_found") << bad;
  }
  EXPECT_EQ(me(p, spare), 200);
  ASSERT_EQ(call(p, "POST", "/api/auth/logout", a.token).status(), 204);
  EXPECT_EQ(call(p, "GET", "/api/auth/sessions", a.token).status(), 401);
  EXPECT_EQ(end_session(p, a.token, spare_id).status(), 401);
  EXPECT_EQ(me(p, spare), 200);
}

TEST(sessions, a_cookie_delete_from_a_foreign_page_is_refused) {
  server_process s;
  auto p = s.port();
  auto a = register_account(p, "csrf@example.com", "Acme");
  std::string other = login_as(p, "csrf@example.com");
  std::string other_id = current_id(p, other);
  auto r = call(p, "DELETE", "/api/auth/sessions/" + other_id, "", "",
                {{"Cookie", "reel_session=" + a.token}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_EQ(me(p, other), 200);
}
