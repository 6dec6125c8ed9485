// The subscriber against a real redis-server (scripts/redis).
#include "redis/client.hpp"

#include "redis_loop.hpp"
#include "support/redis.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace reel::redis;
using reel::test::quick_options;
using reel::test::redis_loop;
using reel::test::redis_server;
using namespace std::chrono_literals;

namespace {

std::string channel(const std::string& name) { return "test:" + std::to_string(::getpid()) + ":" + name; }

// What a subscriber's callbacks saw.
struct inbox {
  std::vector<std::pair<std::string, std::string>> messages;
  int up = 0, down = 0;
  void watch(subscriber& s) {
    s.on_message = [this](const std::string& ch, const std::string& m) { messages.emplace_back(ch, m); };
    s.on_connected = [this] { ++up; };
    s.on_disconnected = [this](const std::string&) { ++down; };
  }
  bool has(const std::string& ch, const std::string& m) const {
    for (const auto& [c, text] : messages)
      if (c == ch && text == m) return true;
    return false;
  }
};

// A command client for publishing, connected.
class publisher {
 public:
  publisher(redis_loop& l, const url& u) : l_(l), c_(l.executor(), u, quick_options()) {
    c_.start();
    EXPECT_TRUE(l_.run_until([&] { return c_.connected(); }));
  }
  // PUBLISH; returns how many subscribers received it (0 when not connected).
  std::int64_t publish(const std::string& ch, const std::string& message) {
    try {
      return l_.await(c_.command({"PUBLISH", ch, message})).integer;
    } catch (const unavailable&) {
      return 0;
    }
  }
  // Publishes until a subscriber receives it: a subscription made on the
  // server's side is not visible to the client before its confirmation.
  bool publish_until_heard(const std::string& ch, const std::string& message) {
    auto deadline = std::chrono::steady_clock::now() + redis_loop::k_patience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (publish(ch, message) > 0) return true;
      l_.run_for(20ms);
    }
    return false;
  }
  client& get() { return c_; }

 private:
  redis_loop& l_;
  client c_;
};

}  // namespace

TEST(redis_subscriber, receives_what_is_published_on_its_channels_only) {
  REEL_REQUIRE_REDIS();
  auto u = parse_url(redis_server::shared().url());
  redis_loop l;
  subscriber s(l.executor(), u, quick_options());
  inbox got;
  got.watch(s);
  s.subscribe(channel("a"));
  s.subscribe(channel("a"));  // once is enough
  s.start();
  ASSERT_TRUE(l.run_until([&] { return s.connected(); }));
  EXPECT_EQ(got.up, 1);

  publisher p(l, u);
  std::string binary("line\r\n\0end", 10);
  EXPECT_EQ(p.publish(channel("a"), binary), 1) << "subscribed once";
  EXPECT_EQ(p.publish(channel("other"), "not for us"), 0);
  EXPECT_EQ(p.publish(channel("a"), "second"), 1);
  ASSERT_TRUE(l.run_until([&] { return got.messages.size() == 2; }));
  EXPECT_EQ(got.messages[0], std::make_pair(channel("a"), binary));
  EXPECT_EQ(got.messages[1], std::make_pair(channel("a"), std::string("second")));

  // A channel added while connected.
  s.subscribe(channel("b"));
  ASSERT_TRUE(p.publish_until_heard(channel("b"), "to b"));
  ASSERT_TRUE(l.run_until([&] { return got.has(channel("b"), "to b"); }));
  EXPECT_TRUE(s.connected());
  EXPECT_EQ(got.down, 0);
}

TEST(redis_subscriber, with_no_channels_it_connects_and_subscribes_later) {
  REEL_REQUIRE_REDIS();
  auto u = parse_url(redis_server::shared().unix_url());
  redis_loop l;
  subscriber s(l.executor(), u, quick_options());
  inbox got;
  got.watch(s);
  s.start();
  ASSERT_TRUE(l.run_until([&] { return s.connected(); }));
  s.subscribe(channel("late"));
  publisher p(l, u);
  ASSERT_TRUE(p.publish_until_heard(channel("late"), "hello"));
  ASSERT_TRUE(l.run_until([&] { return got.has(channel("late"), "hello"); }));
}

TEST(redis_subscriber, resubscribes_after_the_server_restarts_and_says_so) {
  REEL_REQUIRE_REDIS();
  auto server = redis_server::start();
  auto u = parse_url(server->url());
  redis_loop l;
  subscriber s(l.executor(), u, quick_options());
  inbox got;
  got.watch(s);
  s.subscribe(channel("x"));
  s.subscribe(channel("y"));
  s.start();
  ASSERT_TRUE(l.run_until([&] { return s.connected(); }));
  publisher p(l, u);

  server->restart();
  ASSERT_TRUE(l.run_until([&] { return got.up == 2 && s.connected(); })) << "on_connected again";
  EXPECT_EQ(got.down, 1);
  ASSERT_TRUE(l.run_until([&] { return p.get().connected(); }));
  EXPECT_EQ(p.publish(channel("x"), "after restart"), 1) << "subscribed before on_connected";
  EXPECT_EQ(p.publish(channel("y"), "after restart"), 1);
  ASSERT_TRUE(l.run_until([&] { return got.messages.size() == 2; }));

  // A channel added while the server is down is subscribed on reconnection.
  server->stop_for_now();
  ASSERT_TRUE(l.run_until([&] { return !s.connected(); }));
  s.subscribe(channel("z"));
  l.run_for(100ms);
  server->start_again();
  ASSERT_TRUE(l.run_until([&] { return got.up == 3 && s.connected() && p.get().connected(); }));
  EXPECT_EQ(got.down, 2);
  for (const char* name : {"x", "y", "z"}) EXPECT_EQ(p.publish(channel(name), "third"), 1) << name;
  ASSERT_TRUE(l.run_until([&] { return got.messages.size() == 5; }));
}

TEST(redis_subscriber, keepalive_pings_keep_a_quiet_connection_and_a_dead_server_is_noticed) {
  REEL_REQUIRE_REDIS();
  auto server = redis_server::start();
  auto options = quick_options();
  options.ping_interval = 50ms;
  options.command_timeout = 2s;
  redis_loop l;
  subscriber with_channels(l.executor(), parse_url(server->url()), options);
  subscriber without(l.executor(), parse_url(server->unix_url()), options);
  inbox a, b;
  a.watch(with_channels);
  b.watch(without);
  with_channels.subscribe(channel("quiet"));
  with_channels.start();
  without.start();
  ASSERT_TRUE(l.run_until([&] { return with_channels.connected() && without.connected(); }));
  l.run_for(500ms);  // about ten PINGs each, answered as ["pong", ""] and +PONG
  EXPECT_TRUE(with_channels.connected());
  EXPECT_TRUE(without.connected());
  EXPECT_EQ(a.down + b.down, 0);

  // A server that stops answering (SIGSTOP) without closing: the PING finds out.
  auto pid = server->pid();
  ASSERT_GT(pid, 0);
  ::kill(pid, SIGSTOP);
  bool noticed = l.run_until([&] { return a.down == 1 && b.down == 1; });
  ::kill(pid, SIGCONT);
  ASSERT_TRUE(noticed);
  ASSERT_TRUE(l.run_until([&] { return with_channels.connected() && without.connected(); }));
}

TEST(redis_subscriber, stop_and_destruction_end_it_without_callbacks) {
  REEL_REQUIRE_REDIS();
  auto u = parse_url(redis_server::shared().url());
  redis_loop l;
  auto s = std::make_unique<subscriber>(l.executor(), u, quick_options());
  int callbacks = 0;
  s->on_message = [&](const std::string&, const std::string&) { ++callbacks; };
  s->on_disconnected = [&](const std::string&) { ++callbacks; };
  s->subscribe(channel("stop"));
  s->start();
  ASSERT_TRUE(l.run_until([&] { return s->connected(); }));
  s->stop();
  EXPECT_FALSE(s->connected());
  publisher p(l, u);
  p.publish(channel("stop"), "nobody");  // may still count it: the server sees the close a moment later
  l.run_for(50ms);
  s->start();
  ASSERT_TRUE(l.run_until([&] { return s->connected(); }));
  s.reset();  // while connected
  l.run_for(100ms);
  EXPECT_EQ(callbacks, 0);
}

TEST(redis_subscriber, a_message_callback_may_destroy_the_subscriber) {
  REEL_REQUIRE_REDIS();
  auto u = parse_url(redis_server::shared().url());
  redis_loop l;
  auto s = std::make_unique<subscriber>(l.executor(), u, quick_options());
  s->on_message = [&](const std::string&, const std::string&) { s.reset(); };
  s->subscribe(channel("bye"));
  s->start();
  ASSERT_TRUE(l.run_until([&] { return s->connected(); }));
  publisher p(l, u);
  EXPECT_EQ(p.publish(channel("bye"), "one"), 1);
  p.publish(channel("bye"), "two");
  ASSERT_TRUE(l.run_until([&] { return s == nullptr; }));
  l.run_for(100ms);
}
