// The realtime server's tenancy and abuse rules, against the real server in
// process: one namespace connection per session, revocation and membership
// changes, the connect timeout, per-address limits, sids bound to the
// address that opened them, and polling POSTs handled in batches.
#include "realtime_fixture.hpp"

#include "core/ip_network.hpp"

using namespace reel;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using test::eio_client;
using test::realtime_server;

namespace {

realtime::socketio_options quiet_options() {
  realtime::socketio_options o;
  o.ping_interval = std::chrono::minutes(10);
  o.ping_timeout = std::chrono::minutes(10);
  return o;
}

std::shared_ptr<eio_client> security_client(realtime_server& server, test::header_list headers = {}) {
  return std::make_shared<eio_client>(server.port(), std::move(headers));
}

// The number of `video:updated` events `c` has received for `org`.
std::size_t events_of(const eio_client& c, const std::string& org) {
  std::size_t n = 0;
  for (const auto& p : c.received)
    if (p.starts_with("42") && p.find("\"organizationId\":\"" + org + "\"") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST(socketio_security, a_second_connect_closes_the_session_and_joins_no_second_room) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto b = co_await server.register_user("b@example.com", "B");
    const std::string member = "member";
    co_await server.add_member(b.org_id, a.id, member);  // a is in A and B

    // After the first was accepted.
    auto c = security_client(server);
    EXPECT_TRUE(co_await c->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, a.org_id));
    EXPECT_EQ(server.realtime().room_size(a.org_id), 1u);
    boost::json::object second_auth{{"token", a.token}, {"organizationId", b.org_id}};
    std::string second = "40" + json::serialize(second_auth);
    co_await c->send(second);
    auto closed = [&] { return c->dead && server.realtime().open_sessions() == 0; };
    EXPECT_TRUE(co_await test::wait_until(closed, 2s));
    EXPECT_EQ(server.realtime().room_size(a.org_id), 0u);
    EXPECT_EQ(server.realtime().room_size(b.org_id), 0u);
    for (const auto& p : c->received) EXPECT_FALSE(p.starts_with("40")) << p;

    // While the first is still being authenticated: both in one POST, with
    // a token not seen before (its authentication reads the database).
    auto x = co_await server.register_user("x@example.com", "X");
    co_await server.add_member(a.org_id, x.id, member);
    co_await server.add_member(b.org_id, x.id, member);
    auto d = security_client(server);
    EXPECT_TRUE(co_await d->open_polling());
    boost::json::object first_auth{{"token", x.token}, {"organizationId", a.org_id}};
    boost::json::object second_x{{"token", x.token}, {"organizationId", b.org_id}};
    std::string both = "40" + json::serialize(first_auth) +
                       "\x1e"
                       "40" +
                       json::serialize(second_x);
    co_await d->send(both);
    auto d_closed = [&] { return d->dead && server.realtime().open_sessions() == 0; };
    EXPECT_TRUE(co_await test::wait_until(d_closed, 2s));
    co_await test::sleep_for(50ms);  // the first CONNECT's authentication ends meanwhile
    EXPECT_EQ(server.realtime().room_size(a.org_id), 0u);
    EXPECT_EQ(server.realtime().room_size(b.org_id), 0u);
    for (const auto& p : d->received) EXPECT_FALSE(p.starts_with("40")) << p;

    // Over a WebSocket too.
    auto w = security_client(server);
    EXPECT_TRUE(co_await w->open_websocket());
    EXPECT_TRUE(co_await test::connect_namespace(*w, a.token, a.org_id));
    co_await w->send(second);
    auto w_closed = [&] { return w->dead && server.realtime().open_sessions() == 0; };
    EXPECT_TRUE(co_await test::wait_until(w_closed, 2s));
    EXPECT_EQ(server.realtime().room_size(b.org_id), 0u);
  }());
}

TEST(socketio_security, disconnect_leaves_the_room_and_the_session_may_connect_again) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto c = security_client(server);
    EXPECT_TRUE(co_await c->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, ""));
    EXPECT_EQ(server.realtime().room_size(a.org_id), 1u);
    co_await c->send("41");
    EXPECT_EQ(server.realtime().room_size(a.org_id), 0u);
    server.publish(a.org_id);
    co_await test::sleep_for(50ms);
    EXPECT_EQ(events_of(*c, a.org_id), 0u);
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, ""));
    server.publish(a.org_id);
    auto one = [&] { return events_of(*c, a.org_id) == 1; };
    EXPECT_TRUE(co_await test::wait_until(one, 2s));
    co_await c->close();
  }());
}

TEST(socketio_security, a_removed_member_hears_nothing_more_and_is_disconnected_at_once) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto owner = co_await server.register_user("owner@example.com", "A");
    auto m = co_await server.register_user("m@example.com", "M's own");
    const std::string member = "member";
    co_await server.add_member(owner.org_id, m.id, member);

    auto polling = security_client(server);
    auto ws = security_client(server);
    auto owners = security_client(server);
    EXPECT_TRUE(co_await polling->open_polling());
    EXPECT_TRUE(co_await ws->open_websocket());
    EXPECT_TRUE(co_await owners->open_websocket());
    EXPECT_TRUE(co_await test::connect_namespace(*polling, m.token, owner.org_id));
    EXPECT_TRUE(co_await test::connect_namespace(*ws, m.token, owner.org_id));
    EXPECT_TRUE(co_await test::connect_namespace(*owners, owner.token, owner.org_id));
    EXPECT_EQ(server.realtime().room_size(owner.org_id), 3u);

    // A role change keeps the sockets: a viewer may listen.
    test::http_call patch{boost::beast::http::verb::patch,
                          "/api/orgs/" + owner.org_id + "/members/" + m.id,
                          R"({"role":"viewer"})",
                          {{"Authorization", "Bearer " + owner.token}, {"Content-Type", "application/json"}}};
    auto patched = co_await test::fetch(server.port(), patch);
    EXPECT_EQ(patched.status, 200u) << patched.body;
    server.publish(owner.org_id, {{"n", 1}});
    auto heard = [&] { return events_of(*polling, owner.org_id) == 1 && events_of(*ws, owner.org_id) == 1; };
    EXPECT_TRUE(co_await test::wait_until(heard, 2s));

    // Removal through the API cuts them at once.
    test::http_call remove{boost::beast::http::verb::delete_,
                           "/api/orgs/" + owner.org_id + "/members/" + m.id,
                           {},
                           {{"Authorization", "Bearer " + owner.token}}};
    auto removed = co_await test::fetch(server.port(), remove);
    EXPECT_EQ(removed.status, 204u) << removed.body;
    EXPECT_EQ(server.realtime().room_size(owner.org_id), 1u);  // synchronously: before anything else is published
    server.publish(owner.org_id, {{"n", 2}});
    auto owner_heard = [&] { return events_of(*owners, owner.org_id) == 2; };
    EXPECT_TRUE(co_await test::wait_until(owner_heard, 2s));
    auto gone = [&] { return polling->dead && ws->dead; };
    EXPECT_TRUE(co_await test::wait_until(gone, 1s));
    co_await test::sleep_for(200ms);
    EXPECT_EQ(events_of(*polling, owner.org_id), 1u);
    EXPECT_EQ(events_of(*ws, owner.org_id), 1u);
    EXPECT_EQ(polling->received.back(), "41");  // the client does not reconnect by itself
    EXPECT_EQ(ws->received.back(), "41");
    EXPECT_EQ(server.realtime().open_sessions(), 1u);

    // They cannot come back into that organization.
    auto again = security_client(server);
    EXPECT_TRUE(co_await again->open_polling());
    EXPECT_FALSE(co_await test::connect_namespace(*again, m.token, owner.org_id));
    co_await again->close();
    co_await owners->close();
  }());
}

TEST(socketio_security, a_connect_racing_a_removal_never_ends_in_the_room) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto owner = co_await server.register_user("owner@example.com", "A");
    auto m = co_await server.register_user("m@example.com", "M's own");
    const std::string member = "member", org = owner.org_id, user = m.id;
    for (int round = 0; round < 30; ++round) {
      co_await server.add_member(org, user, member);
      auto c = security_client(server);
      EXPECT_TRUE(co_await c->open_polling());
      boost::json::object auth{{"token", m.token}, {"organizationId", org}};
      std::string connect = "40" + json::serialize(auth);
      co_await c->send(connect);  // its authentication may still be under way
      co_await server.db().write([&](db::transaction& s) { db::delete_membership(s, org, user); });
      server.accounts().membership_changed(org, user, std::nullopt);
      auto settled = [&] {
        for (const auto& p : c->received)
          if (p.starts_with("44") || p == "41") return true;
        return false;
      };
      EXPECT_TRUE(co_await test::wait_until(settled, 2s)) << "round " << round;
      EXPECT_EQ(server.realtime().room_size(org), 0u) << "round " << round;
      server.publish(org);
      co_await test::sleep_for(5ms);
      EXPECT_EQ(events_of(*c, org), 0u) << "round " << round;
      co_await c->close();
    }
  }());
}

TEST(socketio_security, logout_disconnects_only_that_login_sessions_sockets) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto c = security_client(server);
    EXPECT_TRUE(co_await c->open_websocket());
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, ""));
    auto other = security_client(server);
    EXPECT_TRUE(co_await other->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*other, a.token, ""));
    // The same user logged in elsewhere: another login session.
    test::http_call login{boost::beast::http::verb::post,
                          "/api/auth/login",
                          R"({"email":"a@example.com","password":"correct horse"})",
                          {{"Content-Type", "application/json"}}};
    auto logged_in = co_await test::fetch(server.port(), login);
    EXPECT_EQ(logged_in.status, 200u) << logged_in.body;
    std::string second_token(json::parse(logged_in.body).at("token").as_string());
    auto elsewhere = security_client(server);
    EXPECT_TRUE(co_await elsewhere->open_websocket());
    EXPECT_TRUE(co_await test::connect_namespace(*elsewhere, second_token, ""));

    test::http_call logout{
        boost::beast::http::verb::post, "/api/auth/logout", {}, {{"Authorization", "Bearer " + a.token}}};
    auto r = co_await test::fetch(server.port(), logout);
    EXPECT_EQ(r.status, 204u);
    auto gone = [&] { return c->dead && other->dead; };
    EXPECT_TRUE(co_await test::wait_until(gone, 1s));
    EXPECT_EQ(server.realtime().room_size(a.org_id), 1u);
    EXPECT_FALSE(elsewhere->dead);
    // The revoked token cannot CONNECT again.
    auto again = security_client(server);
    EXPECT_TRUE(co_await again->open_polling());
    EXPECT_FALSE(co_await test::connect_namespace(*again, a.token, ""));
    co_await again->close();
    co_await elsewhere->close();
  }());
}

TEST(socketio_security, an_expired_login_session_is_disconnected_at_its_heartbeat) {
  manual_clock time;
  auto options = quiet_options();
  options.ping_interval = 100ms;
  options.ping_timeout = 5s;
  realtime_server server(options, &time);
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto c = security_client(server);
    EXPECT_TRUE(co_await c->open_websocket());
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, ""));
    co_await test::sleep_for(250ms);  // pinged and answered: still connected
    EXPECT_FALSE(c->dead);
    EXPECT_EQ(server.realtime().room_size(a.org_id), 1u);
    time.advance(std::chrono::hours(24 * 31));  // past the 30-day session
    auto gone = [&] { return c->dead; };
    EXPECT_TRUE(co_await test::wait_until(gone, 2s));
    EXPECT_EQ(c->received.back(), "41");
    EXPECT_EQ(server.realtime().room_size(a.org_id), 0u);
  }());
}

TEST(socketio_security, a_session_without_a_namespace_connection_is_closed_after_the_connect_timeout) {
  auto options = quiet_options();
  options.connect_timeout = 300ms;
  realtime_server server(options);
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto idle_polling = security_client(server);
    auto idle_ws = security_client(server);
    auto connected = security_client(server);
    auto leaving = security_client(server);
    EXPECT_TRUE(co_await idle_polling->open_polling());
    EXPECT_TRUE(co_await idle_ws->open_websocket());
    EXPECT_TRUE(co_await connected->open_websocket());
    EXPECT_TRUE(co_await leaving->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*connected, a.token, ""));
    EXPECT_TRUE(co_await test::connect_namespace(*leaving, a.token, ""));
    auto idle_gone = [&] { return idle_polling->dead && idle_ws->dead; };
    EXPECT_TRUE(co_await test::wait_until(idle_gone, 2s));
    co_await leaving->send("41");  // without a namespace again: a new timeout starts
    co_await test::sleep_for(150ms);
    EXPECT_FALSE(leaving->dead);
    auto leaving_gone = [&] { return leaving->dead; };
    EXPECT_TRUE(co_await test::wait_until(leaving_gone, 2s));
    co_await test::sleep_for(200ms);
    EXPECT_FALSE(connected->dead);
    EXPECT_EQ(server.realtime().open_sessions(), 1u);
    co_await connected->close();
  }());
}

TEST(socketio_security, sessions_per_client_address_are_limited) {
  auto options = quiet_options();
  options.max_sessions_per_address = 3;
  options.trusted_proxies = {*parse_ip_network("127.0.0.1")};
  realtime_server server(options);
  server.run([&]() -> asio::awaitable<void> {
    std::vector<std::shared_ptr<eio_client>> open;
    for (int i = 0; i < 3; ++i) {
      open.push_back(security_client(server));
      bool opened = false;
      if (i % 2 == 0)
        opened = co_await open.back()->open_polling();
      else
        opened = co_await open.back()->open_websocket();
      EXPECT_TRUE(opened);
    }
    EXPECT_EQ(server.realtime().sessions_of("127.0.0.1"), 3u);
    test::http_call handshake{boost::beast::http::verb::get, "/socket.io/?EIO=4&transport=polling", {}, {}};
    auto refused = co_await test::fetch(server.port(), handshake);
    EXPECT_EQ(refused.status, 429u);
    EXPECT_EQ(json::parse(refused.body).at("code").as_int64(), 4);
    auto ws = security_client(server);
    EXPECT_FALSE(co_await ws->open_websocket());
    EXPECT_EQ(ws->last_status, 429u);

    // Another client behind the trusted proxy has its own allowance.
    auto elsewhere = security_client(server, {{"X-Forwarded-For", "203.0.113.9"}});
    EXPECT_TRUE(co_await elsewhere->open_polling());
    EXPECT_EQ(server.realtime().sessions_of("203.0.113.9"), 1u);

    // A closed session gives its place back.
    co_await open.front()->close();
    auto freed = [&] { return server.realtime().sessions_of("127.0.0.1") == 2; };
    EXPECT_TRUE(co_await test::wait_until(freed, 2s));
    auto next = security_client(server);
    EXPECT_TRUE(co_await next->open_polling());
    for (auto& c : open) co_await c->close();
    co_await next->close();
    co_await elsewhere->close();
  }());
}

TEST(socketio_security, a_sid_only_works_from_the_address_that_opened_it) {
  auto options = quiet_options();
  options.trusted_proxies = {*parse_ip_network("127.0.0.0/8")};
  realtime_server server(options);
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto owner = security_client(server, {{"X-Forwarded-For", "198.51.100.1, 203.0.113.5"}});
    EXPECT_TRUE(co_await owner->open_polling());
    const std::string query = "/socket.io/?EIO=4&transport=polling&sid=" + owner->sid;
    const test::header_list intruder = {{"X-Forwarded-For", "203.0.113.6"}};
    test::http_call poll{boost::beast::http::verb::get, query, {}, intruder};
    auto r = co_await test::fetch(server.port(), poll);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(r.body, R"({"code":1,"message":"Session ID unknown"})");
    boost::json::object auth{{"token", a.token}};
    test::http_call post{boost::beast::http::verb::post, query, "40" + json::serialize(auth), intruder};
    r = co_await test::fetch(server.port(), post);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(server.realtime().room_size(a.org_id), 0u);
    auto thief = security_client(server, intruder);
    thief->sid = owner->sid;
    EXPECT_FALSE(co_await thief->upgrade());
    EXPECT_EQ(thief->last_status, 400u);
    // The left-most entry is the client's own word: it proves nothing.
    const test::header_list spoofed = {{"X-Forwarded-For", "203.0.113.5, 203.0.113.7"}};
    test::http_call spoof{boost::beast::http::verb::get, query, {}, spoofed};
    r = co_await test::fetch(server.port(), spoof);
    EXPECT_EQ(r.status, 400u);

    // The session itself is untouched.
    EXPECT_FALSE(owner->dead);
    EXPECT_TRUE(co_await test::connect_namespace(*owner, a.token, ""));
    server.publish(a.org_id);
    auto heard = [&] { return events_of(*owner, a.org_id) == 1; };
    EXPECT_TRUE(co_await test::wait_until(heard, 2s));
    EXPECT_TRUE(co_await owner->upgrade());
    co_await owner->close();
  }());
}

TEST(socketio_security, a_polling_post_of_many_packets_is_handled_in_batches_between_which_the_loop_runs) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto c = security_client(server);
    EXPECT_TRUE(co_await c->open_polling());
    EXPECT_TRUE(co_await test::connect_namespace(*c, a.token, ""));
    // About 45,000 events in one POST just under maxPayload (1 MB).
    std::string body;
    std::size_t packets = 0;
    while (body.size() < 999'000) {
      if (!body.empty()) body += '\x1e';
      body += "42[\"e\",{\"n\":" + std::to_string(packets++ % 1000) + "}]";
    }
    EXPECT_GT(packets, 40'000u);

    // A 1 ms timer on the loop measures how long the loop is held.
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration longest{};
    std::size_t ticks = 0;
    bool running = true;
    std::function<void()> tick = [&] {
      timer.expires_after(1ms);
      timer.async_wait([&](boost::system::error_code ec) {
        if (ec || !running) return;
        auto now = std::chrono::steady_clock::now();
        longest = std::max(longest, now - last);
        last = now;
        ++ticks;
        tick();
      });
    };
    const auto yields_before = server.realtime().batch_yields();
    test::http_call post{
        boost::beast::http::verb::post, "/socket.io/?EIO=4&transport=polling&sid=" + c->sid, std::move(body), {}};
    last = std::chrono::steady_clock::now();
    tick();
    auto r = co_await test::fetch(server.port(), post);
    longest = std::max(longest, std::chrono::steady_clock::now() - last);  // up to the answer
    running = false;
    timer.cancel();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "ok");
    EXPECT_GE(server.realtime().batch_yields() - yields_before, packets / 256 - 1);
    const auto longest_ms = std::chrono::duration_cast<std::chrono::milliseconds>(longest).count();
    std::printf("POST of %zu packets: %zu timer ticks, longest gap %lld ms\n", packets, ticks,
                static_cast<long long>(longest_ms));
    EXPECT_LT(longest_ms, 100);  // generous: a loaded 2-core machine; a batch takes well under 1 ms
    EXPECT_FALSE(c->dead);
    co_await c->close();
  }());
}

TEST(socketio_security, a_polling_client_that_is_not_polling_when_disconnected_gets_the_41_with_its_next_poll) {
  realtime_server server(quiet_options());
  server.run([&]() -> asio::awaitable<void> {
    auto owner = co_await server.register_user("owner@example.com", "A");
    auto m = co_await server.register_user("m@example.com", "M's own");
    const std::string member = "member", org = owner.org_id, user = m.id;
    co_await server.add_member(org, user, member);
    // A raw client: every request by hand, so that no poll waits.
    test::http_call handshake{boost::beast::http::verb::get, "/socket.io/?EIO=4&transport=polling", {}, {}};
    auto opened = co_await test::fetch(server.port(), handshake);
    std::string sid(json::parse(opened.body.substr(1)).at("sid").as_string());
    const std::string query = "/socket.io/?EIO=4&transport=polling&sid=" + sid;
    boost::json::object auth{{"token", m.token}, {"organizationId", org}};
    test::http_call connect{boost::beast::http::verb::post, query, "40" + json::serialize(auth), {}};
    EXPECT_EQ((co_await test::fetch(server.port(), connect)).status, 200u);
    test::http_call poll{boost::beast::http::verb::get, query, {}, {}};
    auto accepted = co_await test::fetch(server.port(), poll);
    EXPECT_TRUE(accepted.body.starts_with("40{\"sid\"")) << accepted.body;

    co_await server.db().write([&](db::transaction& s) { db::delete_membership(s, org, user); });
    server.accounts().membership_changed(org, user, std::nullopt);
    server.publish(org);
    EXPECT_EQ(server.realtime().room_size(org), 0u);
    test::http_call again{boost::beast::http::verb::post, query, "40" + json::serialize(auth), {}};
    EXPECT_EQ((co_await test::fetch(server.port(), again)).status, 400u);  // takes nothing more
    auto last = co_await test::fetch(server.port(), poll);
    EXPECT_EQ(last.status, 200u);
    EXPECT_EQ(last.body, "41");
    auto closing = co_await test::fetch(server.port(), poll);  // then Engine.IO's close, as Node sends it
    EXPECT_EQ(closing.status, 200u);
    EXPECT_EQ(closing.body,
              "6\x1e"
              "1");
    auto after = co_await test::fetch(server.port(), poll);
    EXPECT_EQ(after.status, 400u);
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
  }());
}
