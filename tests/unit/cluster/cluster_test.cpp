// The cluster's parts against a real Redis (scripts/redis): events between
// processes (two `cluster::services` stand for two nodes), bad messages,
// the outbox across an outage, login failures counted together, and the
// upload writer lock: exclusive, renewed, expiring with a dead holder,
// released on request of another node.
#include "cluster/services.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "redis/client.hpp"
#include "support/redis.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace reel::cluster {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

// Waits until `done()` holds (true) or `limit` passes (false).
asio::awaitable<bool> eventually(std::function<bool()> done, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) co_return false;
    co_await sleep_for(10ms);
  }
  co_return true;
}

struct node {
  node(asio::any_io_executor ex, const std::string& url, const clock& c, auth::throttle_limits t = {},
       lock_options locks = {})
      : parts(ex, redis::parse_url(url), link_options{.node_name = "test"}, c, t, locks) {}
  services parts;
};

class cluster_test : public ::testing::Test {
 protected:
  static test::redis_server& redis() { return test::redis_server::shared(); }
  system_clock clock_;
};

TEST_F(cluster_test, an_event_reaches_the_other_node_once_and_its_own_node_once) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, redis().url(), clock_), b(ex, redis().url(), clock_);
    std::vector<event> at_a, at_b;
    a.parts.hub.subscribe([&](const event& e) { at_a.push_back(e); });
    b.parts.hub.subscribe([&](const event& e) { at_b.push_back(e); });
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    a.parts.hub.publish({"org1", "video:progress", boost::json::object{{"id", "v1"}, {"progress", 42}}});
    EXPECT_TRUE(co_await eventually([&] { return at_b.size() == 1; }));
    co_await sleep_for(200ms);  // an echo of its own message would have come back by now
    EXPECT_EQ(at_a.size(), 1u);
    EXPECT_EQ(at_b.size(), 1u);
    if (!at_b.empty()) {
      EXPECT_EQ(at_b[0].organization_id, "org1");
      EXPECT_EQ(at_b[0].name, "video:progress");
      EXPECT_EQ(at_b[0].payload.at("progress").as_int64(), 42);
    }
    a.parts.line.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, messages_that_are_not_reels_are_ignored) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node b(ex, redis().url(), clock_);
    std::vector<event> at_b;
    b.parts.hub.subscribe([&](const event& e) { at_b.push_back(e); });
    b.parts.line.start();
    redis::client raw(ex, redis::parse_url(redis().url()));
    raw.start();
    EXPECT_TRUE(co_await eventually([&] { return raw.connected() && b.parts.line.connected(); }));
    std::vector<std::string> bad_messages{"not json",
                                          "[1,2]",
                                          R"({"org":"o","name":"n","payload":1})",
                                          R"({"from":"someone","name":"n","payload":1})",
                                          R"({"from":"x","org":7,"name":"n"})",
                                          std::string(1 << 16, '{')};
    for (const auto& bad : bad_messages) {
      std::vector<std::string> args{"XADD", events_channel, "*", "m", bad};
      co_await raw.command(std::move(args));
    }
    std::vector<std::string> no_message{"XADD", events_channel, "*", "other", "field"};
    co_await raw.command(std::move(no_message));
    std::vector<std::string> good{"XADD", events_channel, "*", "m",
                                  R"({"from":"other","org":"o","name":"video:ready","payload":{"id":"v"}})"};
    co_await raw.command(std::move(good));
    EXPECT_TRUE(co_await eventually([&] { return at_b.size() == 1; }));
    EXPECT_EQ(at_b.size(), 1u);
    raw.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, events_published_while_redis_is_down_arrive_once_it_is_back) {
  auto server = test::redis_server::start();
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, server->url(), clock_), b(ex, server->url(), clock_);
    std::vector<std::string> at_b;
    int resyncs = 0;
    b.parts.hub.subscribe([&](const event& e) { at_b.push_back(e.name); });
    b.parts.line.on_resync = [&] { ++resyncs; };
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    EXPECT_EQ(resyncs, 1);
    server->stop_for_now();
    EXPECT_TRUE(co_await eventually([&] { return !a.parts.line.connected(); }));
    a.parts.hub.publish({"o", "first", boost::json::object{}});
    a.parts.hub.publish({"o", "second", boost::json::object{}});
    server->start_again();
    EXPECT_TRUE(co_await eventually([&] { return at_b.size() == 2; }, 15000ms));
    EXPECT_EQ(at_b, (std::vector<std::string>{"first", "second"}));
    EXPECT_EQ(resyncs, 2);  // b was told it may have missed messages
    a.parts.line.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, login_failures_on_two_nodes_count_together) {
  auth::throttle_limits limits;
  limits.free_failures_per_email = 4;
  limits.free_failures_per_address = 100;
  limits.first_delay = 30s;
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, redis().url(), clock_, limits), b(ex, redis().url(), clock_, limits);
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    std::string email = "guess-" + ids::random_id(6) + "@example.com";
    for (int i = 0; i < 3; ++i) co_await a.parts.logins.record_failure(email, "10.0.0.1");
    auto after_three = co_await b.parts.logins.retry_after(email, "10.0.0.2");
    EXPECT_FALSE(after_three);
    for (int i = 0; i < 2; ++i) co_await b.parts.logins.record_failure(email, "10.0.0.2");
    auto wait_a = co_await a.parts.logins.retry_after(email, "10.0.0.3");
    auto wait_b = co_await b.parts.logins.retry_after(email, "10.0.0.4");
    EXPECT_TRUE(wait_a && wait_a->count() > 0);
    EXPECT_TRUE(wait_b && wait_b->count() > 25 && wait_b->count() <= 30);  // the 5th failure's delay
    co_await a.parts.logins.record_success(email);
    auto cleared = co_await b.parts.logins.retry_after(email, "10.0.0.4");
    EXPECT_FALSE(cleared);
    a.parts.line.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, rate_limits_count_every_node_together_and_fall_back_without_redis) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, redis().url(), clock_), b(ex, redis().url(), clock_);
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    std::string key = "register:address:" + ids::random_id(6);
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(co_await a.parts.rates.take(key, 3, 3600s));
    EXPECT_FALSE(co_await b.parts.rates.take(key, 3, 3600s));
    auto refused = co_await b.parts.rates.take(key, 3, 3600s);
    EXPECT_TRUE(refused && refused->count() > 3590 && refused->count() <= 3600);
    auto also_refused = co_await a.parts.rates.take(key, 3, 3600s);
    EXPECT_TRUE(also_refused);
    a.parts.line.stop();
    b.parts.line.stop();
    node c(ex, "redis://127.0.0.1:1", clock_);  // nothing listens there: this node counts alone
    c.parts.line.start();
    EXPECT_FALSE(co_await c.parts.rates.take(key, 1, 3600s));
    auto alone = co_await c.parts.rates.take(key, 1, 3600s);
    EXPECT_TRUE(alone);
    c.parts.line.stop();
  }());
}

TEST_F(cluster_test, login_throttling_falls_back_to_this_node_without_redis) {
  auth::throttle_limits limits;
  limits.free_failures_per_email = 1;
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, "redis://127.0.0.1:1", clock_, limits);  // nothing listens there
    a.parts.line.start();
    co_await a.parts.logins.record_failure("x@example.com", "10.0.0.1");
    co_await a.parts.logins.record_failure("x@example.com", "10.0.0.1");
    auto wait = co_await a.parts.logins.retry_after("x@example.com", "10.0.0.1");
    EXPECT_TRUE(wait);
    EXPECT_FALSE(a.parts.line.connected());
    a.parts.line.stop();
  }());
}

TEST_F(cluster_test, one_writer_per_upload_across_nodes) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, redis().url(), clock_, {}, {.ttl = 600ms}), b(ex, redis().url(), clock_, {}, {.ttl = 600ms});
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    std::string id = "up" + ids::random_id(6);
    bool lost = false;
    auto held = co_await a.parts.writers.acquire(id, [&] { lost = true; });
    EXPECT_TRUE(held);
    auto refused = co_await b.parts.writers.acquire(id, {});
    EXPECT_FALSE(refused);
    co_await sleep_for(1500ms);  // past its time to live: renewed meanwhile
    auto still_refused = co_await b.parts.writers.acquire(id, {});
    EXPECT_FALSE(still_refused);
    EXPECT_FALSE(lost);
    held.reset();  // released
    bool taken = false;
    for (int i = 0; i < 100 && !taken; ++i) {
      auto h = co_await b.parts.writers.acquire(id, {});
      taken = h != nullptr;
      if (!taken) co_await sleep_for(10ms);
    }
    EXPECT_TRUE(taken);
    a.parts.line.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, a_dead_holders_lock_expires) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node b(ex, redis().url(), clock_, {}, {.ttl = 500ms});
    b.parts.line.start();
    redis::client raw(ex, redis::parse_url(redis().url()));
    raw.start();
    EXPECT_TRUE(co_await eventually([&] { return raw.connected() && b.parts.line.connected(); }));
    std::string id = "dead" + ids::random_id(6);
    // A holder that was killed: its key stays until it expires, never renewed.
    std::vector<std::string> set{"SET", "reel:upload-writer:" + id, "killed-node", "PX", "400"};
    co_await raw.command(std::move(set));
    auto refused = co_await b.parts.writers.acquire(id, {});
    EXPECT_FALSE(refused);
    co_await sleep_for(500ms);
    auto taken = co_await b.parts.writers.acquire(id, {});
    EXPECT_TRUE(taken);
    raw.stop();
    b.parts.line.stop();
  }());
}

TEST_F(cluster_test, a_termination_on_one_node_stops_the_writer_on_another) {
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    node a(ex, redis().url(), clock_), b(ex, redis().url(), clock_);
    std::string id = "stop" + ids::random_id(6);
    std::shared_ptr<void> held;
    a.parts.writers.on_stop_requested = [&](const std::string& which) {
      if (which == id) held.reset();  // the writer ends its request: the lock goes
    };
    a.parts.line.start();
    b.parts.line.start();
    EXPECT_TRUE(co_await eventually([&] { return a.parts.line.connected() && b.parts.line.connected(); }));
    held = co_await a.parts.writers.acquire(id, {});
    EXPECT_TRUE(held);
    co_await b.parts.writers.stop_writer(id);
    EXPECT_FALSE(held);
    auto taken = co_await b.parts.writers.acquire(id, {});
    EXPECT_TRUE(taken);
    a.parts.line.stop();
    b.parts.line.stop();
  }());
}

}  // namespace
}  // namespace reel::cluster
