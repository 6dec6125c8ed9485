// Engine.IO details where reel answers as the reference server (npm
// `engine.io` 6.6) does, checked against it by hand (docs/PROTOCOLS.md A):
// methods it does not use, how a polling client hears that the server
// closed its session, and a WebSocket for a session that already has one.
#include "realtime_fixture.hpp"

#include <boost/beast/http/empty_body.hpp>

using namespace reel;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using test::eio_client;
using test::realtime_server;

namespace {

const std::string k_base = "/socket.io/?EIO=4&transport=polling";

realtime::socketio_options options(std::chrono::milliseconds connect_timeout = 10min,
                                   std::chrono::milliseconds ping_timeout = 10min) {
  realtime::socketio_options o;
  o.ping_interval = 10min;
  o.ping_timeout = ping_timeout;
  o.connect_timeout = connect_timeout;
  return o;
}

struct reply {
  unsigned status = 0;
  std::string content_type, body;
};

// One request, any method; a HEAD's answer has no body to read.
asio::awaitable<reply> request(unsigned short port, beast::http::verb method, std::string target) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  stream.expires_after(10s);
  asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  co_await stream.async_connect(to, asio::use_awaitable);
  beast::http::request<beast::http::string_body> req{method, target, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  if (method == beast::http::verb::put || method == beast::http::verb::patch) req.body() = "x";
  req.prepare_payload();
  co_await beast::http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  beast::http::response_parser<beast::http::string_body> parser;
  parser.skip(method == beast::http::verb::head);
  co_await beast::http::async_read(stream, buffer, parser, asio::use_awaitable);
  auto res = parser.release();
  co_return reply{res.result_int(), std::string(res[beast::http::field::content_type]), res.body()};
}

asio::awaitable<std::string> handshake(unsigned short port) {
  auto r = co_await request(port, beast::http::verb::get, k_base);
  co_return std::string(json::parse(r.body.substr(1)).at("sid").as_string());
}

std::string error_body(int code, const char* message) {
  return json::serialize(json::object{{"code", code}, {"message", message}});
}

}  // namespace

TEST(engineio_conformance, methods_engine_io_does_not_use_answer_400_with_its_error_body_not_405) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    using beast::http::verb;
    const std::string sid = co_await handshake(server.port());
    for (verb method : {verb::put, verb::delete_, verb::patch, verb::options, verb::propfind}) {
      auto bare = co_await request(server.port(), method, k_base);  // Node: no sid, not GET → "Bad handshake method"
      EXPECT_EQ(bare.status, 400u) << beast::http::to_string(method);
      EXPECT_EQ(bare.content_type, "application/json");
      EXPECT_EQ(bare.body, error_body(2, "Bad handshake method")) << beast::http::to_string(method);
      auto known = co_await request(server.port(), method, k_base + "&sid=" + sid);
      EXPECT_EQ(known.status, 400u) << beast::http::to_string(method);
      EXPECT_EQ(known.body, error_body(3, "Bad request"));
      auto unknown = co_await request(server.port(), method, k_base + "&sid=nope");
      EXPECT_EQ(unknown.body, error_body(1, "Session ID unknown"));
      auto transport = co_await request(server.port(), method, "/socket.io/?EIO=4&transport=carrier-pigeon");
      EXPECT_EQ(transport.body, error_body(0, "Transport unknown"));
    }
    // HEAD is not a poll either (it used to be taken for a GET).
    auto head = co_await request(server.port(), verb::head, k_base + "&sid=" + sid);
    EXPECT_EQ(head.status, 400u);
    EXPECT_EQ((co_await request(server.port(), verb::head, k_base)).status, 400u);
    // The session lives on: a refused method does not end it.
    EXPECT_EQ(server.realtime().open_sessions(), 1u);
    auto c = std::make_shared<eio_client>(server.port());
    EXPECT_TRUE(co_await c->open_polling());
    co_await c->close();
  }());
}

TEST(engineio_conformance, the_poll_waiting_when_the_server_closes_the_session_gets_the_close_packet) {
  realtime_server server(options(/*connect_timeout=*/300ms));
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    // Held until the session ends: it never CONNECTs, so the server closes it.
    auto poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(poll.status, 200u);
    EXPECT_EQ(poll.body, "1");  // Node: the close packet alone
    auto after = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(after.status, 400u);
    EXPECT_EQ(after.body, error_body(1, "Session ID unknown"));
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
  }());
}

TEST(engineio_conformance, the_next_poll_after_a_server_close_gets_a_noop_then_the_close_packet) {
  realtime_server server(options(/*connect_timeout=*/200ms));
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    co_await test::sleep_for(500ms);  // closed meanwhile, with no poll waiting
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
    EXPECT_EQ(server.realtime().sessions_of("127.0.0.1"), 1u);  // waiting for its last poll, it still counts
    auto poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(poll.status, 200u);
    EXPECT_EQ(poll.body,
              "6\x1e"
              "1");  // Node's `6␞1`
    EXPECT_EQ(server.realtime().sessions_of("127.0.0.1"), 0u);
    auto post = co_await request(server.port(), beast::http::verb::post, k_base + "&sid=" + sid);
    EXPECT_EQ(post.status, 400u);
    auto after = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(after.status, 400u);
  }());
}

// Node's engine.io ends a session at once for its own failures (here a ping
// from the client): only a poll waiting then hears of it; Socket.IO's own
// closes (a bad Socket.IO packet) wait for the next poll, like a timeout's.
TEST(engineio_conformance, an_engine_io_failure_ends_the_session_at_once_a_socket_io_one_after_the_next_poll) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    const std::string abrupt = co_await handshake(server.port());
    test::http_call ping{beast::http::verb::post, k_base + "&sid=" + abrupt, "2", {}};
    EXPECT_EQ((co_await test::fetch(server.port(), ping)).status, 400u);
    auto gone = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + abrupt);
    EXPECT_EQ(gone.status, 400u);
    EXPECT_EQ(gone.body, error_body(1, "Session ID unknown"));

    const std::string orderly = co_await handshake(server.port());
    test::http_call bad{beast::http::verb::post, k_base + "&sid=" + orderly, "4abc", {}};
    EXPECT_EQ((co_await test::fetch(server.port(), bad)).status, 200u);
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
    auto last = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + orderly);
    EXPECT_EQ(last.body,
              "6\x1e"
              "1");
    auto after = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + orderly);
    EXPECT_EQ(after.status, 400u);
  }());
}

TEST(engineio_conformance, a_closed_session_waits_only_a_moment_for_its_last_poll) {
  realtime_server server(options(/*connect_timeout=*/100ms, /*ping_timeout=*/300ms));
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    co_await test::sleep_for(900ms);  // closed after 100 ms, forgotten 300 ms later
    auto poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(poll.status, 400u);
    EXPECT_EQ(poll.body, error_body(1, "Session ID unknown"));
  }());
}

TEST(engineio_conformance, a_clients_close_answers_its_waiting_poll_with_a_noop) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    std::optional<reply> poll;
    auto held = [&]() -> asio::awaitable<void> {
      poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    };
    asio::co_spawn(server.io(), held(), asio::detached);
    co_await test::sleep_for(100ms);
    test::http_call close{beast::http::verb::post, k_base + "&sid=" + sid, "1", {}};
    EXPECT_EQ((co_await test::fetch(server.port(), close)).status, 200u);
    auto answered = [&] { return poll.has_value(); };
    EXPECT_TRUE(co_await test::wait_until(answered, 5s));
    if (poll) {
      EXPECT_EQ(poll->body, "6");  // Node: a noop, the client knows it closed
    }
    auto after = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(after.status, 400u);  // no session waits for another poll
  }());
}

TEST(engineio_conformance, packets_queued_before_a_server_close_come_first_then_the_noop_and_close) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    auto owner = co_await server.register_user("owner@example.com", "A");
    const std::string sid = co_await handshake(server.port());
    const std::string query = k_base + "&sid=" + sid;
    test::http_call connect{
        beast::http::verb::post, query, "40" + json::serialize(json::object{{"token", owner.token}}), {}};
    EXPECT_EQ((co_await test::fetch(server.port(), connect)).status, 200u);
    auto accepted = co_await request(server.port(), beast::http::verb::get, query);
    EXPECT_TRUE(accepted.body.starts_with("40{\"sid\"")) << accepted.body;
    // Logging out disconnects the socket: 41 is queued and the session closes.
    test::http_call logout{
        beast::http::verb::post, "/api/auth/logout", {}, {{"Authorization", "Bearer " + owner.token}}};
    EXPECT_EQ((co_await test::fetch(server.port(), logout)).status, 204u);
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
    auto first = co_await request(server.port(), beast::http::verb::get, query);
    EXPECT_EQ(first.body, "41");
    auto second = co_await request(server.port(), beast::http::verb::get, query);
    EXPECT_EQ(second.body,
              "6\x1e"
              "1");
    auto third = co_await request(server.port(), beast::http::verb::get, query);
    EXPECT_EQ(third.status, 400u);
  }());
}

TEST(engineio_conformance, a_shutdown_answers_the_waiting_poll_with_the_close_packet) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    std::optional<reply> poll;
    auto held = [&]() -> asio::awaitable<void> {
      poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    };
    asio::co_spawn(server.io(), held(), asio::detached);
    co_await test::sleep_for(100ms);
    server.realtime().stop();
    auto answered = [&] { return poll.has_value(); };
    EXPECT_TRUE(co_await test::wait_until(answered, 5s));
    if (poll) {
      EXPECT_EQ(poll->body, "1");
    }
  }());
}

namespace {

using ws_stream = beast::websocket::stream<beast::tcp_stream>;

// Opens a WebSocket for session `sid`; the handshake's HTTP status (101 when accepted).
asio::awaitable<unsigned> open_ws(ws_stream& ws, unsigned short port, const std::string& sid) {
  asio::ip::tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
  beast::get_lowest_layer(ws).expires_after(10s);
  co_await beast::get_lowest_layer(ws).async_connect(to, asio::use_awaitable);
  beast::websocket::response_type res;
  boost::system::error_code ec;
  std::string host = "127.0.0.1", target = "/socket.io/?EIO=4&transport=websocket&sid=" + sid;
  co_await ws.async_handshake(res, host, target, asio::redirect_error(asio::use_awaitable, ec));
  co_return res.result_int();
}

// Reads until the peer closes; true when it sent a close frame (its code in `code`).
asio::awaitable<bool> closed_by_peer(ws_stream& ws, beast::websocket::close_code& code) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
  code = static_cast<beast::websocket::close_code>(ws.reason().code);
  co_return ec == beast::websocket::error::closed;
}

}  // namespace

TEST(engineio_conformance, a_second_websocket_for_an_upgraded_session_is_accepted_then_closed) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    auto owner = co_await server.register_user("ws@example.com", "W");
    auto c = std::make_shared<eio_client>(server.port());
    EXPECT_TRUE(co_await c->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*c, owner.token, owner.org_id));
    EXPECT_TRUE(co_await c->upgrade());
    ws_stream second(co_await asio::this_coro::executor);
    EXPECT_EQ(co_await open_ws(second, server.port(), c->sid), 101u);  // was 400
    beast::websocket::close_code code{};
    EXPECT_TRUE(co_await closed_by_peer(second, code));
    EXPECT_EQ(code, beast::websocket::close_code::none);  // Node's ws.close(): no code
    // The first WebSocket carries on.
    server.publish(owner.org_id, {{"n", 1}});
    auto heard = co_await test::take_packet(*c, "42", 5s);
    EXPECT_TRUE(heard.has_value());
    EXPECT_FALSE(c->dead);
    EXPECT_EQ(server.realtime().open_sessions(), 1u);
    co_await c->close();
  }());
}

TEST(engineio_conformance, a_second_websocket_during_an_upgrade_is_accepted_then_closed_and_the_upgrade_goes_on) {
  realtime_server server(options());
  server.run([&]() -> asio::awaitable<void> {
    const std::string sid = co_await handshake(server.port());
    ws_stream first(co_await asio::this_coro::executor), second(co_await asio::this_coro::executor);
    EXPECT_EQ(co_await open_ws(first, server.port(), sid), 101u);
    EXPECT_EQ(co_await open_ws(second, server.port(), sid), 101u);
    beast::websocket::close_code code{};
    EXPECT_TRUE(co_await closed_by_peer(second, code));
    std::string probe = "2probe";
    first.text(true);
    co_await first.async_write(asio::buffer(probe), asio::use_awaitable);
    beast::flat_buffer buffer;
    co_await first.async_read(buffer, asio::use_awaitable);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "3probe");
    std::string five = "5";
    co_await first.async_write(asio::buffer(five), asio::use_awaitable);
    co_await test::sleep_for(50ms);
    auto poll = co_await request(server.port(), beast::http::verb::get, k_base + "&sid=" + sid);
    EXPECT_EQ(poll.status, 400u);  // upgraded: polling is over for it
    EXPECT_EQ(server.realtime().open_sessions(), 1u);
    beast::websocket::close_reason normal(beast::websocket::close_code::normal);
    boost::system::error_code ec;
    co_await first.async_close(normal, asio::redirect_error(asio::use_awaitable, ec));
  }());
}
