// docs/api-webhooks.md against the real binary: who may manage an
// organization's webhooks, what a URL or an event list may be, and
// deliveries to a real receiver on loopback (signed as Standard Webhooks
// say), or refused when the target is a loopback address and private
// targets are not allowed. (The e2e test, tests/e2e/webhooks.test.mjs,
// verifies the signatures with the npm `standardwebhooks` library and
// covers retries, timeouts and a crash.)
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/process.hpp"
#include "webhooks/signature.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// A webhook receiver on 127.0.0.1: answers every POST with `status` and
// keeps what it received.
class receiver {
 public:
  struct hit {
    std::map<std::string, std::string> headers;
    std::string body;
  };
  explicit receiver(int status = 200) : status_(status), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~receiver() {
    stopping_ = true;
    boost::system::error_code ec;
    asio::ip::tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook"; }
  // Waits until `n` requests arrived; returns them.
  std::vector<hit> wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, timeout, [&] { return hits_.size() >= n; });
    return hits_;
  }

 private:
  void serve() {
    while (!stopping_) {
      asio::ip::tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) continue;
      beast::flat_buffer buf;
      beast::http::request<beast::http::string_body> req;
      beast::http::read(s, buf, req, ec);
      if (ec) continue;
      hit h;
      for (const auto& f : req) h.headers[std::string(f.name_string())] = std::string(f.value());
      h.body = req.body();
      beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(status_), 11};
      res.body() = "thanks";
      res.prepare_payload();
      beast::http::write(s, res, ec);
      std::lock_guard lock(m_);
      hits_.push_back(std::move(h));
      cv_.notify_all();
    }
  }
  int status_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<hit> hits_;
};

// An organization with an owner, an admin, a member and a viewer, and an
// outsider who owns another.
struct webhooks_team {
  server_process server;
  account owner, admin, member, viewer, outsider;
  explicit webhooks_team(std::map<std::string, std::string> env = {}) : server({}, std::move(env)) {
    auto p = port();
    owner = register_account(p, "owner@example.com", "Team");
    admin = register_account(p, "admin@example.com", "A");
    member = register_account(p, "member@example.com", "M");
    viewer = register_account(p, "viewer@example.com", "V");
    outsider = register_account(p, "outsider@example.com", "Elsewhere");
    for (auto [who, role] : {std::pair{&admin, "admin"}, {&member, "member"}, {&viewer, "viewer"}})
      invite_and_accept(p, owner, owner.org_id, *who, role);
  }
  unsigned short port() const { return server.port(); }
  std::string hooks(const std::string& org) const { return "/api/orgs/" + org + "/webhooks"; }
  std::string hooks() const { return hooks(owner.org_id); }
  api_reply create(const account& by, const json::value& body) {
    return call_json(port(), "POST", hooks(), by.token, body);
  }
  json::object add(const std::string& url, json::array events) {
    auto r = create(owner, {{"url", url}, {"events", std::move(events)}});
    if (r.status() != 201) throw std::runtime_error("create webhook: " + r.raw.body());
    return r.json.at("webhook").as_object();
  }
  json::array deliveries(const std::string& id) {
    auto r = call(port(), "GET", hooks() + "/" + id + "/deliveries", owner.token);
    if (r.status() != 200) throw std::runtime_error("deliveries: " + r.raw.body());
    return r.json.at("deliveries").as_array();
  }
  // Polls the delivery log until `done` holds for its newest entry.
  json::object wait_delivery(const std::string& id, const std::function<bool(const json::object&)>& done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    json::object last;
    while (std::chrono::steady_clock::now() < until) {
      auto all = deliveries(id);
      if (!all.empty()) {
        last = all.front().as_object();
        if (done(last)) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }
};

}  // namespace

TEST(webhooks, admins_and_owners_manage_them_and_nobody_else) {
  webhooks_team t;
  auto p = t.port();
  auto made = t.create(t.admin, {{"url", "https://hooks.example.com/reel"}, {"events", {"video.ready"}}});
  ASSERT_EQ(made.status(), 201) << made.raw.body();
  auto hook = made.json.at("webhook").as_object();
  EXPECT_TRUE(text(hook, "id").starts_with("whk_"));
  EXPECT_TRUE(text(hook, "secret").starts_with("whsec_"));
  EXPECT_TRUE(reel::webhooks::secret_key(text(hook, "secret")));
  EXPECT_TRUE(hook.at("enabled").as_bool());
  EXPECT_TRUE(hook.at("disabledReason").is_null());
  std::string one = t.hooks() + "/" + text(hook, "id");
  EXPECT_EQ(call(p, "GET", t.hooks(), t.owner.token).json.at("webhooks").as_array().size(), 1u);
  EXPECT_EQ(call(p, "GET", one, t.admin.token).status(), 200);

  // Members and viewers: 403 on every route; anonymous: 401.
  for (const account* who : {&t.member, &t.viewer}) {
    EXPECT_EQ(t.create(*who, {{"url", "https://x.example/"}, {"events", {"video.ready"}}}).status(), 403);
    EXPECT_EQ(call(p, "GET", t.hooks(), who->token).status(), 403);
    EXPECT_EQ(call(p, "GET", one, who->token).status(), 403);
    EXPECT_EQ(call_json(p, "PATCH", one, who->token, {{"enabled", false}}).status(), 403);
    EXPECT_EQ(call(p, "DELETE", one, who->token).status(), 403);
    EXPECT_EQ(call(p, "GET", one + "/deliveries", who->token).status(), 403);
    EXPECT_EQ(call(p, "POST", one + "/test", who->token).status(), 403);
  }
  EXPECT_EQ(call(p, "GET", t.hooks()).status(), 401);
  EXPECT_EQ(call(p, "POST", one + "/test").status(), 401);

  // Another organization's owner: not a member here (403); its own
  // organization's routes do not find this webhook (404).
  EXPECT_EQ(call(p, "GET", t.hooks(), t.outsider.token).status(), 403);
  std::string theirs = t.hooks(t.outsider.org_id) + "/" + text(hook, "id");
  EXPECT_EQ(call(p, "GET", theirs, t.outsider.token).status(), 404);
  EXPECT_EQ(call_json(p, "PATCH", theirs, t.outsider.token, {{"enabled", false}}).status(), 404);
  EXPECT_EQ(call(p, "DELETE", theirs, t.outsider.token).status(), 404);
  EXPECT_EQ(call(p, "GET", theirs + "/deliveries", t.outsider.token).status(), 404);
  EXPECT_EQ(call(p, "POST", theirs + "/test", t.outsider.token).status(), 404);
  EXPECT_EQ(call(p, "POST", theirs + "/deliveries/dlv_x/redeliver", t.outsider.token).status(), 404);
  EXPECT_EQ(call(p, "GET", t.hooks(t.outsider.org_id), t.outsider.token).json.at("webhooks").as_array().size(), 0u);

  // A revoked session is 401.
  ASSERT_EQ(call(p, "POST", "/api/auth/logout", t.admin.token).status(), 204);
  EXPECT_EQ(call(p, "GET", t.hooks(), t.admin.token).status(), 401);

  // Change, rotate, disable, delete.
  auto rotated =
      call_json(p, "PATCH", one, t.owner.token, {{"rotateSecret", true}, {"events", {"video.ready", "member.added"}}});
  ASSERT_EQ(rotated.status(), 200) << rotated.raw.body();
  EXPECT_NE(text(rotated.json.at("webhook"), "secret"), text(hook, "secret"));
  EXPECT_EQ(rotated.json.at("webhook").at("events").as_array().size(), 2u);
  auto off = call_json(p, "PATCH", one, t.owner.token, {{"enabled", false}});
  EXPECT_FALSE(off.json.at("webhook").at("enabled").as_bool());
  EXPECT_FALSE(off.json.at("webhook").at("disabledAt").is_null());
  EXPECT_EQ(call(p, "DELETE", one, t.owner.token).status(), 204);
  EXPECT_EQ(call(p, "GET", one, t.owner.token).status(), 404);
  EXPECT_EQ(call(p, "DELETE", one, t.owner.token).status(), 404);
}

TEST(webhooks, bad_urls_and_events_are_400_naming_the_problem) {
  webhooks_team t;
  auto bad = [&](const json::value& body) {
    auto r = t.create(t.owner, body);
    EXPECT_EQ(r.status(), 400) << json::serialize(body) << " → " << r.raw.body();
    EXPECT_EQ(r.error_code(), "bad_request") << r.raw.body();
    return r.raw.body();
  };
  json::array ready{"video.ready"};
  EXPECT_NE(bad({{"url", "ftp://example.com/"}, {"events", ready}}).find("http"), std::string::npos);
  EXPECT_NE(bad({{"url", "https://user:pw@example.com/"}, {"events", ready}}).find("password"), std::string::npos);
  bad({{"url", "https://example.com/" + std::string(2100, 'a')}, {"events", ready}});
  bad({{"url", "https://exa mple.com/"}, {"events", ready}});
  bad({{"url", "not a url"}, {"events", ready}});
  bad({{"url", 5}, {"events", ready}});
  bad({{"events", ready}});
  bad({{"url", "https://example.com/"}});
  bad({{"url", "https://example.com/"}, {"events", json::array{}}});
  EXPECT_NE(bad({{"url", "https://example.com/"}, {"events", {"video.exploded"}}}).find("video.exploded"),
            std::string::npos);
  bad({{"url", "https://example.com/"}, {"events", {"video.ready", "video.ready"}}});
  bad({{"url", "https://example.com/"}, {"events", {1}}});
  bad({{"url", "https://example.com/"}, {"events", ready}, {"enabled", "yes"}});
  EXPECT_EQ(call(t.port(), "POST", t.hooks(), t.owner.token, "[1]").status(), 400);
  auto hook = t.add("https://example.com/", ready);
  std::string one = t.hooks() + "/" + text(hook, "id");
  EXPECT_EQ(call_json(t.port(), "PATCH", one, t.owner.token, json::object{}).status(), 400);
  EXPECT_EQ(call_json(t.port(), "PATCH", one, t.owner.token, {{"url", "gopher://x/"}}).status(), 400);
  EXPECT_EQ(call_json(t.port(), "PATCH", one, t.owner.token, {{"rotateSecret", 1}}).status(), 400);
  EXPECT_EQ(call(t.port(), "GET", one + "/deliveries?limit=0", t.owner.token).status(), 400);
  EXPECT_EQ(call(t.port(), "POST", one + "/deliveries/dlv_nope/redeliver", t.owner.token).status(), 404);
}

TEST(webhooks, events_reach_a_receiver_signed_and_logged) {
  webhooks_team t(std::map<std::string, std::string>{{"REEL_WEBHOOK_ALLOW_PRIVATE", "true"}});
  receiver r;
  auto hook = t.add(r.url(), {"member.added", "member.removed"});
  std::string id = text(hook, "id"), secret = text(hook, "secret");
  auto other = register_account(t.port(), "late@example.com", "L");
  invite_and_accept(t.port(), t.owner, t.owner.org_id, other, "member");  // member.added
  auto test = call(t.port(), "POST", t.hooks() + "/" + id + "/test", t.owner.token);
  ASSERT_EQ(test.status(), 202) << test.raw.body();
  auto hits = r.wait_for(2);
  ASSERT_EQ(hits.size(), 2u);
  std::set<std::string> types;
  for (const auto& h : hits) {
    auto body = json::parse(h.body);
    types.insert(text(body, "type"));
    EXPECT_EQ(h.headers.at("webhook-signature"),
              reel::webhooks::sign(secret, h.headers.at("webhook-id"), std::stoll(h.headers.at("webhook-timestamp")),
                                   h.body));
    EXPECT_TRUE(h.headers.at("webhook-id").starts_with("msg_"));
    EXPECT_EQ(h.headers.at("Content-Type"), "application/json");
  }
  EXPECT_EQ(types, (std::set<std::string>{"member.added", "webhook.test"}));
  auto added = json::parse(hits[0].body.find("member.added") != std::string::npos ? hits[0].body : hits[1].body);
  EXPECT_EQ(text(added.at("data"), "userId"), other.user_id);
  EXPECT_EQ(text(added.at("data"), "role"), "member");
  auto logged = t.wait_delivery(id, [](const json::object& d) { return d.at("status").as_string() == "delivered"; });
  EXPECT_EQ(text(logged, "status"), "delivered");
  EXPECT_EQ(logged.at("responseCode").as_int64(), 200);
  EXPECT_EQ(text(logged, "responseBody"), "thanks");
  EXPECT_EQ(logged.at("attempts").as_int64(), 1);
  // Redelivered: the same message id again.
  auto again =
      call(t.port(), "POST", t.hooks() + "/" + id + "/deliveries/" + text(logged, "id") + "/redeliver", t.owner.token);
  ASSERT_EQ(again.status(), 202) << again.raw.body();
  auto three = r.wait_for(3);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(three[2].headers.at("webhook-id"), text(logged, "messageId"));
  // Events it does not subscribe to are not sent.
  EXPECT_EQ(t.deliveries(id).size(), 2u);
}

TEST(webhooks, a_loopback_target_is_refused_without_the_private_flag) {
  webhooks_team t;
  receiver r;
  auto hook = t.add(r.url(), {"member.added"});
  std::string id = text(hook, "id");
  ASSERT_EQ(call(t.port(), "POST", t.hooks() + "/" + id + "/test", t.owner.token).status(), 202);
  auto logged = t.wait_delivery(id, [](const json::object& d) { return d.at("error").is_string(); });
  ASSERT_TRUE(logged.at("error").is_string()) << json::serialize(logged);
  std::string why = text(logged, "error");
  EXPECT_NE(why.find("refused"), std::string::npos) << why;
  EXPECT_NE(why.find("127.0.0.1"), std::string::npos) << why;
  EXPECT_NE(why.find("loopback"), std::string::npos) << why;
  EXPECT_NE(why.find("REEL_WEBHOOK_ALLOW_PRIVATE"), std::string::npos) << why;
  EXPECT_TRUE(logged.at("responseCode").is_null());
  EXPECT_EQ(text(logged, "status"), "pending");  // retried on the schedule
  EXPECT_TRUE(r.wait_for(1, std::chrono::seconds(1)).empty());
}
