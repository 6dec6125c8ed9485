// Randomized churn of Socket.IO sessions against the real server: opening,
// upgrading, CONNECT (also a second one on a session that has one, or has
// one under way), DISCONNECT, closing and reconnecting, in random order,
// while events are published to two organizations. Every session must only
// ever hear the organization of its own namespace connection, a session
// must never hold two namespace connections, and nothing may touch a
// session after it is gone (the ASan build catches that). Meanwhile a user
// is removed from one organization and added back: while removed, their
// sockets hear nothing of it.
#include "realtime_fixture.hpp"

#include <cstdlib>
#include <deque>
#include <random>
#include <set>

using namespace reel;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// What a client knows of its session's namespace connection.
struct client_model {
  enum class state { idle, connecting, connected };
  state ns = state::idle;
  bool ambiguous = false;       // a second CONNECT went out while one was unanswered
  std::string pending_org;      // the organization the unanswered CONNECT may join ("" = must be refused)
  std::string current_org;      // while connected and not ambiguous
  std::set<std::string> asked;  // every organization a CONNECT on this session may have joined
  std::set<std::string> users;  // every user whose credentials a CONNECT on this session carried
  std::string org_a, ab_user;   // organization A, and the user removed from it and added back now and then
  std::vector<std::string>* violations = nullptr;
  std::string name;
  std::deque<std::string> trace;  // the session's last packets both ways, for the failure message

  void note(const std::string& what) {
    trace.push_back(what.substr(0, 60));
    if (trace.size() > 12) trace.pop_front();
  }

  void violation(const std::string& what) {
    std::string history;
    for (const auto& t : trace) history += "\n    " + t;
    violations->push_back(name + ": " + what + "; last packets:" + history);
  }

  void on_packet(const std::string& p) {
    note("<- " + p);
    if (p.starts_with("40")) {
      if (ns == state::connected) {
        violation("a second namespace connection was accepted on one session");
      } else if (ns == state::connecting && !ambiguous && pending_org.empty()) {
        violation("a CONNECT with credentials for another organization was accepted");
      }
      current_org = ambiguous ? "" : pending_org;
      ns = state::connected;
      return;
    }
    if (p.starts_with("44")) {
      if (ns == state::connecting) ns = state::idle;
      return;
    }
    if (p == "41") {
      ns = state::idle;
      return;
    }
    if (p.starts_with("42")) {
      auto args = json::parse(p.substr(2));
      std::string org(args.at(1).at("video").at("organizationId").as_string());
      if (!asked.contains(org))
        violation("received an event of organization " + org + " it never asked to join: " + p);
      else if (org == org_a && users == std::set<std::string>{ab_user} &&
               !args.at(1).at("video").at("abMember").as_bool())
        violation("heard organization A after its only user was removed from A: " + p);
      else if (ns == state::connected && !ambiguous && !current_org.empty() && org != current_org)
        violation("connected to " + current_org + " but received an event of " + org);
      if (ns == state::idle && !ambiguous && asked.empty()) violation("received an event while never connected");
      return;
    }
  }
};

struct churn_client {
  std::shared_ptr<test::eio_client> io;
  client_model model;
};

}  // namespace

TEST(socketio_churn, random_connects_disconnects_and_closes_never_leak_events_or_touch_freed_sessions) {
  realtime::socketio_options options;
  options.ping_interval = std::chrono::minutes(10);  // no pings: the steps are the traffic
  options.ping_timeout = std::chrono::minutes(10);
  test::realtime_server server(options);

  const char* seed_text = std::getenv("REEL_CHURN_SEED");
  const unsigned seed =
      seed_text ? static_cast<unsigned>(std::strtoul(seed_text, nullptr, 10)) : std::random_device{}();
  const int steps = 4000;
  SCOPED_TRACE("REEL_CHURN_SEED=" + std::to_string(seed));
  std::vector<std::string> violations;
  int connects = 0, published = 0, upgraded = 0, membership_changes = 0;

  server.run([&]() -> asio::awaitable<void> {
    auto a = co_await server.register_user("a@example.com", "A");
    auto b = co_await server.register_user("b@example.com", "B");
    auto ab = co_await server.register_user("ab@example.com", "AB's own");
    const std::string viewer = "viewer", member = "member";
    co_await server.add_member(a.org_id, ab.id, viewer);
    co_await server.add_member(b.org_id, ab.id, member);
    const std::string org_a = a.org_id, org_b = b.org_id;
    // Credentials a CONNECT may carry, and the organization they join ("" = refused).
    std::string forged = a.token;  // a well-formed token nobody holds
    forged[0] = forged[0] == 'x' ? 'y' : 'x';
    struct credential {
      std::string token, org, joins, user;
    };
    const std::vector<credential> credentials = {
        {a.token, org_a, org_a, a.id},   {b.token, org_b, org_b, b.id},   {ab.token, org_a, org_a, ab.id},
        {ab.token, org_b, org_b, ab.id}, {ab.token, org_a, org_a, ab.id}, {a.token, org_b, "", a.id},
        {b.token, org_a, "", b.id},      {forged, org_a, "", "nobody"},
    };
    bool ab_in_a = true;  // ab's membership of A, as of the last change

    std::mt19937 rng(seed);
    auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    std::vector<churn_client> clients;
    int opened = 0;

    auto open_one = [&]() -> asio::awaitable<void> {
      churn_client c;
      c.io = std::make_shared<test::eio_client>(server.port());
      c.model.violations = &violations;
      c.model.org_a = org_a;
      c.model.ab_user = ab.id;
      c.model.name = "session " + std::to_string(opened++);
      bool ok = false;  // (no co_await inside ?: with GCC 12)
      if (pick(3) == 0)
        ok = co_await c.io->open_websocket();
      else
        ok = co_await c.io->open_polling();
      if (!ok) co_return;
      c.model.name += " (" + c.io->sid + ")";
      clients.push_back(std::move(c));
      // The model lives in `clients`; the callback finds it by sid (the vector moves).
      auto sid = clients.back().io->sid;
      clients.back().io->on_packet = [&clients, sid](const std::string& p) {
        for (auto& cl : clients)
          if (cl.io->sid == sid) cl.model.on_packet(p);
      };
    };

    for (int step = 0; step < steps; ++step) {
      std::erase_if(clients, [](const churn_client& c) { return c.io->dead; });
      if (clients.size() < 2) {
        co_await open_one();
        continue;
      }
      auto& c = clients[pick(clients.size())];
      auto roll = pick(100);
      if (roll < 10) {  // open another session (or reconnect: close one, open one)
        if (clients.size() >= 12) co_await c.io->close(pick(2) == 0);
        co_await open_one();
      } else if (roll < 40) {  // CONNECT, whatever the session's state
        const auto& cred = credentials[pick(credentials.size())];
        auto& m = c.model;
        if (m.ns == client_model::state::connecting) m.ambiguous = true;
        if (m.ns == client_model::state::idle) {
          m.ns = client_model::state::connecting;
          m.pending_org = cred.joins;
        }
        if (!cred.joins.empty()) m.asked.insert(cred.joins);
        m.users.insert(cred.user);
        std::string packet = "40" + json::serialize(json::object{{"token", cred.token}, {"organizationId", cred.org}});
        m.note("-> CONNECT as " + cred.user + " to " + cred.org);
        co_await c.io->send(packet);
        ++connects;
      } else if (roll < 50) {  // DISCONNECT, only when connected
        if (c.model.ns != client_model::state::connected) continue;
        c.model.ns = client_model::state::idle;
        c.model.note("-> 41");
        co_await c.io->send("41");
      } else if (roll < 58) {  // close
        co_await c.io->close(pick(2) == 0);
      } else if (roll < 63) {  // upgrade a polling session
        if (!c.io->websocket && co_await c.io->upgrade()) ++upgraded;
      } else if (roll < 68) {  // an event from the client
        if (c.model.ns == client_model::state::connected) co_await c.io->send("42[\"hello\",{\"n\":1}]");
      } else if (roll < 70) {  // ab leaves A, or joins it again
        const std::string ab_id = ab.id;
        if (ab_in_a) {
          co_await server.db().write([&](db::transaction& s) { db::delete_membership(s, org_a, ab_id); });
          server.accounts().membership_changed(org_a, ab_id, std::nullopt);
        } else {
          const std::string viewer_role = "viewer";
          co_await server.add_member(org_a, ab_id, viewer_role);
          server.accounts().membership_changed(org_a, ab_id, model::role::viewer);
        }
        ab_in_a = !ab_in_a;
        ++membership_changes;
      } else if (roll < 95) {  // publish
        server.publish(pick(2) == 0 ? org_a : org_b, {{"title", "secret"}, {"step", step}, {"abMember", ab_in_a}});
        ++published;
      } else {  // let authentication and the pollers catch up
        const auto pause = std::chrono::milliseconds(pick(3));
        co_await test::sleep_for(pause);
      }
    }
    co_await test::sleep_for(100ms);
    for (auto& c : clients) co_await c.io->close();
    co_await test::sleep_for(200ms);
    EXPECT_EQ(server.realtime().open_sessions(), 0u);
  }());

  for (std::size_t i = 0; i < violations.size() && i < 20; ++i) ADD_FAILURE() << violations[i];
  EXPECT_EQ(violations.size(), 0u);
  EXPECT_GT(published, steps / 5);
  EXPECT_GT(connects, steps / 5);
  EXPECT_GT(upgraded, 0);
  EXPECT_GT(membership_changes, 0);
}
