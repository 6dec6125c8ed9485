// The command client against a real redis-server (scripts/redis), and
// against fake servers for what a real one will not do.
#include "redis/client.hpp"

#include "redis_loop.hpp"
#include "support/redis.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace reel::redis;
using reel::test::quick_options;
using reel::test::redis_loop;
using reel::test::redis_server;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// A key of this test process's own: the shared server may be shared further.
std::string key(const std::string& name) { return "test:" + std::to_string(::getpid()) + ":" + name; }

// Counts a client's callbacks.
struct transitions {
  int up = 0, down = 0;
  std::string last_why;
  template <class C>
  void watch(C& c) {
    c.on_connected = [this] { ++up; };
    c.on_disconnected = [this](const std::string& why) {
      ++down;
      last_why = why;
    };
  }
};

// Runs `args` on `c`; the reply, or the exception as a test failure.
value run(redis_loop& l, client& c, std::vector<std::string> args) { return l.await(c.command(std::move(args))); }

// An address where nothing listens (a port bound then released).
unsigned short closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// Results of commands left running on the loop.
struct outcomes {
  int started = 0, ok = 0, unavailable = 0, other = 0;
  int finished() const { return ok + unavailable + other; }
};

// Awaits `command` and counts how it ended.
asio::awaitable<void> record(asio::awaitable<value> command, std::shared_ptr<outcomes> out) {
  ++out->started;
  try {
    co_await std::move(command);
    ++out->ok;
  } catch (const unavailable&) {
    ++out->unavailable;
  } catch (...) {
    ++out->other;
  }
}

// Awaits `command` and stores the integer it returns at `results[i]`.
asio::awaitable<void> store_integer(asio::awaitable<value> command, std::shared_ptr<std::vector<std::int64_t>> results,
                                    int i) {
  value v = co_await std::move(command);
  (*results)[i] = v.integer;
}

// A fake server's side of one connection: answers the first read (the
// client's PING) with PONG, and every later one with a byte that is no RESP
// type.
asio::awaitable<void> answer_garbage(std::shared_ptr<asio::ip::tcp::socket> peer) {
  char buf[512];
  std::string_view answer = "+PONG\r\n";
  for (;;) {
    co_await peer->async_read_some(asio::buffer(buf), asio::use_awaitable);
    co_await asio::async_write(*peer, asio::buffer(answer), asio::use_awaitable);
    answer = "?what\r\n";
  }
}

asio::awaitable<void> accept_all(asio::ip::tcp::acceptor& a) {
  for (;;) {
    auto peer = std::make_shared<asio::ip::tcp::socket>(a.get_executor());
    co_await a.async_accept(*peer, asio::use_awaitable);
    asio::co_spawn(a.get_executor(), answer_garbage(peer), asio::detached);
  }
}

}  // namespace

TEST(redis_client, set_get_and_incr) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  EXPECT_EQ(t.up, 1);

  EXPECT_EQ(run(l, c, {"SET", key("greeting"), "hello"}), value::simple("OK"));
  EXPECT_EQ(run(l, c, {"GET", key("greeting")}), value::bulk("hello"));
  EXPECT_TRUE(run(l, c, {"GET", key("missing")}).is_nil());
  run(l, c, {"DEL", key("counter")});
  EXPECT_EQ(run(l, c, {"INCR", key("counter")}).integer, 1);
  EXPECT_EQ(run(l, c, {"INCRBY", key("counter"), "41"}).integer, 42);
  auto list = run(l, c, {"MGET", key("greeting"), key("missing")});
  EXPECT_EQ(list, value::array({value::bulk("hello"), value::nil()}));
  c.stop();
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(t.down, 0) << "stop() is not a lost connection";
}

TEST(redis_client, binary_values_round_trip) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  std::string binary("a\r\n\0b\r\n*1\r\n", 12);
  run(l, c, {"SET", key("binary"), binary});
  EXPECT_EQ(run(l, c, {"GET", key("binary")}).text, binary);
  std::string big(3 << 20, 'z');
  run(l, c, {"SET", key("big"), big});
  EXPECT_EQ(run(l, c, {"GET", key("big")}).text, big);
}

TEST(redis_client, a_thousand_concurrent_commands_are_pipelined_and_resolve_in_order) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  run(l, c, {"DEL", key("pipelined")});

  constexpr int n = 1000;
  auto results = std::make_shared<std::vector<std::int64_t>>(n, -1);
  for (int i = 0; i < n; ++i)
    asio::co_spawn(l.executor(), store_integer(c.command({"INCR", key("pipelined")}), results, i), asio::detached);
  ASSERT_TRUE(l.run_until([&] { return std::count(results->begin(), results->end(), -1) == 0; }));
  // Sent in the order command() was called, answered in that order, each
  // reply to its own command.
  for (int i = 0; i < n; ++i) ASSERT_EQ((*results)[i], i + 1) << "command " << i;
}

TEST(redis_client, an_error_reply_throws_reply_error_and_the_connection_stays_usable) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  try {
    run(l, c, {"NOSUCHCOMMAND", "x"});
    ADD_FAILURE() << "no reply_error";
  } catch (const reply_error& e) {
    EXPECT_EQ(e.prefix(), "ERR");
    EXPECT_NE(std::string(e.what()).find("unknown command"), std::string::npos) << e.what();
  }
  run(l, c, {"SET", key("text"), "abc"});
  try {
    run(l, c, {"LPUSH", key("text"), "x"});
    ADD_FAILURE() << "no reply_error";
  } catch (const reply_error& e) {
    EXPECT_EQ(e.prefix(), "WRONGTYPE");
  }
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(run(l, c, {"PING"}), value::simple("PONG"));
  // An error inside an array reply is a value, not an exception.
  run(l, c, {"MULTI"});
  run(l, c, {"INCR", key("text")});
  auto exec = run(l, c, {"EXEC"});
  ASSERT_TRUE(exec.is_array());
  ASSERT_EQ(exec.elements.size(), 1u);
  EXPECT_TRUE(exec.elements[0].is_error());
}

TEST(redis_client, fails_fast_when_not_connected_and_refuses_commands_it_cannot_pipeline) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  EXPECT_THROW(run(l, c, {"PING"}), unavailable);  // not started
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  EXPECT_THROW(run(l, c, {}), std::invalid_argument);
  EXPECT_THROW(run(l, c, {"subscribe", "x"}), std::invalid_argument);
  EXPECT_THROW(run(l, c, {"MONITOR"}), std::invalid_argument);
  c.stop();
  EXPECT_THROW(run(l, c, {"PING"}), unavailable);
  c.start();  // again after stop()
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  EXPECT_EQ(run(l, c, {"PING"}), value::simple("PONG"));
}

TEST(redis_client, reconnects_after_the_server_restarts_and_fails_fast_while_it_is_down) {
  REEL_REQUIRE_REDIS();
  auto server = redis_server::start();
  redis_loop l;
  client c(l.executor(), parse_url(server->url()), quick_options());
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  run(l, c, {"SET", "k", "v"});

  server->stop_for_now();
  ASSERT_TRUE(l.run_until([&] { return !c.connected(); }));
  EXPECT_EQ(t.down, 1);
  auto before = std::chrono::steady_clock::now();
  EXPECT_THROW(run(l, c, {"PING"}), unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s) << "not connected: fails at once";
  l.run_for(300ms);  // several attempts fail (backoff 20..200 ms)
  EXPECT_EQ(t.down, 1) << "one call per lost connection, not one per attempt";
  EXPECT_FALSE(c.connected());

  server->start_again();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  EXPECT_EQ(t.up, 2);
  EXPECT_EQ(run(l, c, {"PING"}), value::simple("PONG"));

  server->restart();
  ASSERT_TRUE(l.run_until([&] { return t.up == 3 && c.connected(); }));
  EXPECT_EQ(t.down, 2);
  EXPECT_TRUE(run(l, c, {"GET", "k"}).is_nil()) << "a new server (no persistence)";
}

TEST(redis_client, a_reply_slower_than_the_command_timeout_drops_the_connection_and_it_reconnects) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  auto options = quick_options();
  options.command_timeout = 200ms;
  client c(l.executor(), parse_url(redis_server::shared().url()), options);
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));

  // BLPOP on an empty list answers after its own timeout, 2 s: far too slow.
  // (DEBUG SLEEP would do as well, but Redis 7 disables DEBUG by default.)
  auto behind = std::make_shared<outcomes>();
  asio::co_spawn(l.executor(), record(c.command({"BLPOP", key("empty"), "2"}), behind), asio::detached);
  asio::co_spawn(l.executor(), record(c.command({"PING"}), behind), asio::detached);  // pipelined behind it
  auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(l.run_until([&] { return behind->finished() == 2; }));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1500ms);
  EXPECT_EQ(behind->unavailable, 2);
  EXPECT_EQ(t.down, 1);
  EXPECT_NE(t.last_why.find("200 ms"), std::string::npos) << t.last_why;

  ASSERT_TRUE(l.run_until([&] { return c.connected() && t.up == 2; }));
  EXPECT_EQ(run(l, c, {"PING"}), value::simple("PONG"));
}

TEST(redis_client, stop_fails_the_commands_in_flight_with_unavailable) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  client c(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  auto out = std::make_shared<outcomes>();
  for (int i = 0; i < 50; ++i)
    asio::co_spawn(l.executor(), record(c.command({"BLPOP", key("never"), "5"}), out), asio::detached);
  ASSERT_TRUE(l.run_until([&] { return out->started == 50; }));
  c.stop();
  ASSERT_TRUE(l.run_until([&] { return out->finished() == 50; }, 2s));
  EXPECT_EQ(out->unavailable, 50);
  EXPECT_EQ(t.down, 0) << "no callbacks after stop()";
  EXPECT_EQ(t.up, 1);
}

TEST(redis_client, destroying_the_client_fails_its_commands_in_flight) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  auto c = std::make_unique<client>(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  int callbacks = 0;
  c->on_disconnected = [&](const std::string&) { ++callbacks; };
  c->start();
  ASSERT_TRUE(l.run_until([&] { return c->connected(); }));
  auto out = std::make_shared<outcomes>();
  for (int i = 0; i < 20; ++i)
    asio::co_spawn(l.executor(), record(c->command({"BLPOP", key("never"), "5"}), out), asio::detached);
  ASSERT_TRUE(l.run_until([&] { return out->started == 20; }));
  c.reset();
  ASSERT_TRUE(l.run_until([&] { return out->finished() == 20; }, 2s));
  EXPECT_EQ(out->unavailable, 20);
  l.run_for(100ms);  // whatever is still unwinding must not touch the client
  EXPECT_EQ(callbacks, 0);
}

TEST(redis_client, a_callback_may_destroy_the_client) {
  REEL_REQUIRE_REDIS();
  redis_loop l;
  auto c = std::make_unique<client>(l.executor(), parse_url(redis_server::shared().url()), quick_options());
  c->on_connected = [&] { c.reset(); };
  c->start();
  ASSERT_TRUE(l.run_until([&] { return c == nullptr; }));
  l.run_for(100ms);
}

TEST(redis_client, a_unix_socket_url_with_a_database_works) {
  REEL_REQUIRE_REDIS();
  auto& server = redis_server::shared();
  redis_loop l;
  client over_unix(l.executor(), parse_url(server.unix_url() + "?db=5"), quick_options());
  client db5(l.executor(), parse_url(server.url() + "/5"), quick_options());
  client db0(l.executor(), parse_url(server.url()), quick_options());
  over_unix.start();
  db5.start();
  db0.start();
  ASSERT_TRUE(l.run_until([&] { return over_unix.connected() && db5.connected() && db0.connected(); }));
  run(l, over_unix, {"SET", key("in-db-5"), "five"});
  EXPECT_EQ(run(l, db5, {"GET", key("in-db-5")}).text, "five");
  EXPECT_TRUE(run(l, db0, {"GET", key("in-db-5")}).is_nil());
  run(l, db5, {"DEL", key("in-db-5")});
}

TEST(redis_client, sends_the_password_and_the_name_and_reports_a_wrong_password_once) {
  REEL_REQUIRE_REDIS();
  auto server = redis_server::start();
  redis_loop l;
  auto tcp = parse_url(server->url());
  {
    client admin(l.executor(), tcp, quick_options());
    admin.start();
    ASSERT_TRUE(l.run_until([&] { return admin.connected(); }));
    run(l, admin, {"ACL", "SETUSER", "alice", "on", ">alice pw", "~*", "&*", "+@all"});
    run(l, admin, {"CONFIG", "SET", "requirepass", "s3cret"});
  }
  auto with = [&](const std::string& userinfo) {
    return parse_url("redis://" + userinfo + "@127.0.0.1:" + std::to_string(tcp.port) + "/2");
  };
  auto options = quick_options();
  options.name = "reel:test:commands";
  client good(l.executor(), with(":s3cret"), options);
  client alice(l.executor(), with("alice:alice%20pw"), options);
  client bad(l.executor(), with(":n0t-the-one"), options);
  transitions bad_calls;
  bad_calls.watch(bad);
  good.start();
  alice.start();
  bad.start();
  ASSERT_TRUE(l.run_until([&] { return good.connected() && alice.connected() && bad_calls.down == 1; }));
  EXPECT_EQ(run(l, good, {"CLIENT", "GETNAME"}).text, "reel:test:commands");
  EXPECT_EQ(run(l, alice, {"ACL", "WHOAMI"}).text, "alice");
  run(l, good, {"SET", "in-db-2", "yes"});
  EXPECT_EQ(run(l, alice, {"GET", "in-db-2"}).text, "yes");

  l.run_for(300ms);  // it keeps trying, quietly
  EXPECT_FALSE(bad.connected());
  EXPECT_EQ(bad_calls.up, 0);
  EXPECT_EQ(bad_calls.down, 1) << "reported once: the first attempt after start()";
  EXPECT_NE(bad_calls.last_why.find("AUTH failed"), std::string::npos) << bad_calls.last_why;
  EXPECT_EQ(bad_calls.last_why.find("n0t-the-one"), std::string::npos) << "the password is never repeated";
}

TEST(redis_client, nothing_listening_is_retried_in_the_background_and_reported_once) {
  redis_loop l;
  client c(l.executor(), parse_url("redis://127.0.0.1:" + std::to_string(closed_port())), quick_options());
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return t.down == 1; }));
  EXPECT_NE(t.last_why.find("refused"), std::string::npos) << t.last_why;
  l.run_for(300ms);
  EXPECT_EQ(t.down, 1);
  EXPECT_THROW(run(l, c, {"PING"}), unavailable);
  c.stop();
}

TEST(redis_client, a_server_that_never_answers_the_handshake_times_out) {
  redis_loop l;
  // Accepted by the kernel's backlog and never read: CLIENT SETNAME gets no reply.
  asio::ip::tcp::acceptor silent(l.context(), {asio::ip::make_address("127.0.0.1"), 0});
  auto options = quick_options();
  options.connect_timeout = 300ms;
  options.name = "reel:test";
  client c(l.executor(), parse_url("redis://127.0.0.1:" + std::to_string(silent.local_endpoint().port())), options);
  transitions t;
  t.watch(c);
  auto before = std::chrono::steady_clock::now();
  c.start();
  ASSERT_TRUE(l.run_until([&] { return t.down == 1; }));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 250ms);
  EXPECT_NE(t.last_why.find("not connected within 300 ms"), std::string::npos) << t.last_why;
  EXPECT_FALSE(c.connected());
}

TEST(redis_client, a_malformed_reply_drops_the_connection) {
  redis_loop l;
  asio::ip::tcp::acceptor fake(l.context(), {asio::ip::make_address("127.0.0.1"), 0});
  asio::co_spawn(l.executor(), accept_all(fake), asio::detached);
  client c(l.executor(), parse_url("redis://127.0.0.1:" + std::to_string(fake.local_endpoint().port())),
           quick_options());
  transitions t;
  t.watch(c);
  c.start();
  ASSERT_TRUE(l.run_until([&] { return c.connected(); }));
  EXPECT_THROW(run(l, c, {"PING"}), unavailable);
  ASSERT_TRUE(l.run_until([&] { return t.down == 1; }));
  EXPECT_NE(t.last_why.find("protocol"), std::string::npos) << t.last_why;
  ASSERT_TRUE(l.run_until([&] { return t.up == 2; })) << "and reconnects";
  c.stop();
  fake.close();
}
