// An in-process realtime server for tests, wired as `reel serve` wires it:
// a real socketio_server and domain::accounts (with the account routes) on a
// temporary SQLite database, served by the real HTTP server on 127.0.0.1:0.
// Everything runs on one io_context on the test's thread, beside a small raw
// Engine.IO client (polling and WebSocket) written with coroutines, so that
// a test can interleave client steps and server events deterministically.
#pragma once

#include "api/accounts.hpp"
#include "api/guard.hpp"
#include "core/clock.hpp"
#include "core/events.hpp"
#include "core/offload.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"
#include "domain/accounts.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "realtime/socketio.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reel::test {

namespace rt_asio = boost::asio;
namespace rt_beast = boost::beast;

// The server side.
class realtime_server {
 public:
  explicit realtime_server(realtime::socketio_options options = {}, const clock* time = nullptr)
      : dir_(std::filesystem::temp_directory_path() /
             ("reel-realtime-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir_++))),
        pool_(2),
        database_(open(dir_)),
        db_(pool_, *database_),
        clock_(time ? *time : wall_clock_),
        accounts_(db_, clock_, cheap_accounts()),
        guard_(accounts_),
        account_api_{accounts_},
        organizations_(db_, accounts_, clock_) {
    api::add_account_routes(routes_, guard_, account_api_);
    api::add_organization_routes(routes_, guard_, organizations_);
    realtime_ = std::make_unique<realtime::socketio_server>(io_, accounts_, hub_, options);
    realtime_->add_routes(routes_);
    accounts_.on_logout = [this](const std::string& id, const std::string&) { realtime_->session_revoked(id); };
    accounts_.on_membership_changed = [this](const std::string& org, const std::string& user,
                                             std::optional<model::role> role) {
      realtime_->membership_changed(org, user, role);
    };
    chain_ = http::compose({http::error_handler()}, http::dispatch_route());
    http::server_options o;
    o.shutdown_timeout = std::chrono::milliseconds(500);
    server_ = std::make_unique<http::server>(io_, routes_, chain_, o);
    port_ = server_->listen("127.0.0.1", 0).port();
    server_->start();
  }
  ~realtime_server() {
    stop();
    pool_.join();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  realtime_server(const realtime_server&) = delete;
  realtime_server& operator=(const realtime_server&) = delete;

  // Runs `task` on the loop until it ends, then rethrows what it threw.
  void run(rt_asio::awaitable<void> task) {
    bool finished = false;
    std::exception_ptr failure;
    rt_asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e) {
      failure = e;
      finished = true;
    });
    while (!finished) io_.run_one();
    if (failure) std::rethrow_exception(failure);
  }

  // Closes every session and lets the HTTP server drain.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    realtime_->stop();
    bool drained = false;
    server_->shutdown([&] { drained = true; });
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!drained && std::chrono::steady_clock::now() < until) io_.run_one_for(std::chrono::milliseconds(10));
    io_.poll();
  }

  // A user with their own organization (named `org_name`) and a token.
  struct user {
    std::string id, token, org_id, email;
  };
  rt_asio::awaitable<user> register_user(std::string_view email_text, std::string_view org_text) {
    std::string email(email_text), org_name(org_text);
    std::string password = "correct horse";
    std::string name = "User " + email;
    domain::session_origin origin{"127.0.0.1", "realtime test"};
    auto reg = co_await accounts_.register_account(email, password, name, org_name, origin);
    co_return user{reg.user.id, reg.token, reg.org.id, email};
  }
  // (Arguments are references: pass named values that outlive the call.)
  rt_asio::awaitable<void> add_member(const std::string& org_id, const std::string& user_id, const std::string& role) {
    std::string now = to_iso8601(clock_.now());
    co_await db_.write(
        [&](db::transaction& s) { db::insert_membership(s, org_id, user_id, *model::parse_role(role), now); });
    accounts_.memberships_changed();
  }

  rt_asio::io_context& io() { return io_; }
  unsigned short port() const { return port_; }
  realtime::socketio_server& realtime() { return *realtime_; }
  domain::accounts& accounts() { return accounts_; }
  event_hub& hub() { return hub_; }
  db::gateway& db() { return db_; }

  // Publishes `video:updated` for organization `org` with `extra` in the video.
  void publish(const std::string& org, boost::json::object extra = {}) {
    extra["organizationId"] = org;
    hub_.publish(event{org, "video:updated", boost::json::object{{"video", std::move(extra)}}});
  }

 private:
  static std::unique_ptr<db::database> open(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    auto d = db::open_database("", dir.string(), 2);
    db::migrate(*d, to_iso8601(system_clock{}.now()));
    return d;
  }
  static domain::account_settings cheap_accounts() {
    domain::account_settings s;
    s.cost = {1, std::size_t(8) << 20};
    return s;
  }

  static inline std::atomic<int> next_dir_{0};
  rt_asio::io_context io_{1};
  std::filesystem::path dir_;
  worker_pool pool_;
  std::unique_ptr<db::database> database_;
  db::gateway db_;
  system_clock wall_clock_;
  const clock& clock_;
  domain::accounts accounts_;
  api::guard guard_;
  api::account_api account_api_;
  domain::organizations organizations_;
  local_event_hub hub_;
  http::router routes_;
  std::unique_ptr<realtime::socketio_server> realtime_;
  http::handler chain_;
  std::unique_ptr<http::server> server_;
  unsigned short port_ = 0;
  bool stopped_ = false;
};

// One HTTP exchange on a fresh connection. (Requests are named values: GCC 12
// mishandles temporaries inside co_await expressions, see CONVENTIONS.md.)
using header_list = std::vector<std::pair<std::string, std::string>>;
struct http_call {
  rt_beast::http::verb method = rt_beast::http::verb::get;
  std::string target;
  std::string body;
  header_list headers;
};
struct http_reply {
  unsigned status = 0;
  std::string body;
};
inline rt_asio::awaitable<http_reply> fetch(unsigned short port, const http_call& call) {
  auto ex = co_await rt_asio::this_coro::executor;
  rt_beast::tcp_stream stream(ex);
  stream.expires_after(std::chrono::seconds(30));
  rt_asio::ip::tcp::endpoint to(rt_asio::ip::make_address("127.0.0.1"), port);
  co_await stream.async_connect(to, rt_asio::use_awaitable);
  rt_beast::http::request<rt_beast::http::string_body> req{call.method, call.target, 11};
  req.set(rt_beast::http::field::host, "127.0.0.1");
  for (const auto& [k, v] : call.headers) req.set(k, v);
  if (call.method != rt_beast::http::verb::get) {
    if (req.find(rt_beast::http::field::content_type) == req.end())
      req.set(rt_beast::http::field::content_type, "text/plain;charset=UTF-8");
    req.body() = call.body;
  }
  req.prepare_payload();
  co_await rt_beast::http::async_write(stream, req, rt_asio::use_awaitable);
  rt_beast::flat_buffer buffer;
  rt_beast::http::response_parser<rt_beast::http::string_body> parser;
  parser.body_limit(16 << 20);
  co_await rt_beast::http::async_read(stream, buffer, parser, rt_asio::use_awaitable);
  auto res = parser.release();
  co_return http_reply{res.result_int(), std::move(res.body())};
}

inline rt_asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  rt_asio::steady_timer t(co_await rt_asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(rt_asio::use_awaitable);
}

// A raw Engine.IO v4 client session: polling (with an optional upgrade) or
// WebSocket from the start. Received packets go to `on_packet`; server pings
// are answered. Loop thread only.
class eio_client : public std::enable_shared_from_this<eio_client> {
 public:
  using ws_stream = rt_beast::websocket::stream<rt_beast::tcp_stream>;

  explicit eio_client(unsigned short port, header_list headers = {}) : port_(port), headers_(std::move(headers)) {}

  std::function<void(const std::string&)> on_packet;
  std::string sid;
  bool websocket = false;
  bool dead = false;                 // the server ended the session (or refused a request of it)
  unsigned last_status = 0;          // of the last POST
  std::deque<std::string> received;  // every packet but pings and noops, in order

  std::string base() const { return "/socket.io/?EIO=4&transport=polling"; }

  // Opens a polling session and starts its long-poll loop.
  rt_asio::awaitable<bool> open_polling() {
    http_call handshake{rt_beast::http::verb::get, base(), {}, headers_};
    auto r = co_await fetch(port_, handshake);
    if (r.status != 200 || r.body.empty() || r.body[0] != '0') {
      last_status = r.status;
      dead = true;
      co_return false;
    }
    sid = std::string(boost::json::parse(r.body.substr(1)).at("sid").as_string());
    auto self = shared_from_this();
    rt_asio::co_spawn(co_await rt_asio::this_coro::executor, self->run_poll(), rt_asio::detached);
    co_return true;
  }

  // Opens a session on a WebSocket directly.
  rt_asio::awaitable<bool> open_websocket() {
    websocket = true;
    ws_ = std::make_shared<ws_stream>(co_await rt_asio::this_coro::executor);
    std::string target = "/socket.io/?EIO=4&transport=websocket";
    if (!co_await ws_handshake(target)) co_return false;
    auto first = co_await ws_read();
    if (!first || first->empty() || (*first)[0] != '0') {
      dead = true;
      co_return false;
    }
    sid = std::string(boost::json::parse(first->substr(1)).at("sid").as_string());
    auto self = shared_from_this();
    rt_asio::co_spawn(co_await rt_asio::this_coro::executor, self->run_ws_reader(), rt_asio::detached);
    co_return true;
  }

  // Upgrades a polling session to a WebSocket (probe, then "5").
  rt_asio::awaitable<bool> upgrade() {
    if (websocket || dead) co_return false;
    auto ws = std::make_shared<ws_stream>(co_await rt_asio::this_coro::executor);
    ws_ = ws;
    std::string target = "/socket.io/?EIO=4&transport=websocket&sid=" + sid;
    if (!co_await ws_handshake(target)) {
      ws_.reset();
      co_return false;
    }
    std::string probe = "2probe";
    co_await ws_write(probe);
    auto answer = co_await ws_read();
    if (!answer || *answer != "3probe") {
      ws_.reset();
      co_return false;
    }
    // Pause polling, as the stock client does: the poll in flight ends (the
    // server answers it with a noop) and no other starts.
    upgrading_ = true;
    const auto tick = std::chrono::milliseconds(1);
    while (polling_) co_await sleep_for(tick);
    std::string five = "5";
    websocket = true;  // from here on, sends go over the WebSocket
    co_await ws_write(five);
    auto self = shared_from_this();
    rt_asio::co_spawn(co_await rt_asio::this_coro::executor, self->run_ws_reader(), rt_asio::detached);
    co_return true;
  }

  // Sends one packet (a POST of it, or a frame). Sends are queued and go out
  // one at a time; the caller that starts the queue waits until it is empty.
  rt_asio::awaitable<void> send(std::string_view packet) {
    outbox_.emplace_back(packet);
    if (sending_) co_return;
    sending_ = true;
    auto self = shared_from_this();
    while (!outbox_.empty() && !dead) {
      std::string p = std::move(outbox_.front());
      outbox_.pop_front();
      if (websocket) {
        co_await ws_write(p);
      } else {
        http_call post{rt_beast::http::verb::post, base() + "&sid=" + sid, std::move(p), headers_};
        http_reply r;
        try {
          r = co_await fetch(port_, post);
        } catch (const std::exception&) {
          r.status = 0;
        }
        last_status = r.status;
        if (r.status != 200) dead = true;
      }
    }
    outbox_.clear();
    sending_ = false;
  }

  // Ends the session from the client's side: "1" over polling, a close frame
  // (or, `abrupt`, just closing the socket) over a WebSocket.
  rt_asio::awaitable<void> close(bool abrupt = false) {
    if (dead) co_return;
    if (!websocket) {
      co_await send("1");
      dead = true;
      co_return;
    }
    dead = true;
    auto ws = ws_;
    if (!ws) co_return;
    if (abrupt) {
      rt_beast::get_lowest_layer(*ws).close();
      co_return;
    }
    rt_beast::websocket::close_reason why(rt_beast::websocket::close_code::normal);
    boost::system::error_code ec;
    co_await ws->async_close(why, rt_asio::redirect_error(rt_asio::use_awaitable, ec));
  }

 private:
  rt_asio::awaitable<bool> ws_handshake(const std::string& target) {
    auto ws = ws_;
    rt_beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(10));
    rt_asio::ip::tcp::endpoint to(rt_asio::ip::make_address("127.0.0.1"), port_);
    boost::system::error_code ec;
    co_await rt_beast::get_lowest_layer(*ws).async_connect(to, rt_asio::redirect_error(rt_asio::use_awaitable, ec));
    if (!ec) {
      auto extra = headers_;
      ws->set_option(rt_beast::websocket::stream_base::decorator([extra](rt_beast::websocket::request_type& req) {
        for (const auto& [k, v] : extra) req.set(k, v);
      }));
      std::string host = "127.0.0.1";
      rt_beast::websocket::response_type res;
      co_await ws->async_handshake(res, host, target, rt_asio::redirect_error(rt_asio::use_awaitable, ec));
      last_status = res.result_int();
    }
    if (ec) {
      if (websocket) dead = true;  // (a failed upgrade leaves the session on polling)
      co_return false;
    }
    rt_beast::get_lowest_layer(*ws).expires_never();
    co_return true;
  }

  rt_asio::awaitable<std::optional<std::string>> ws_read() {
    auto ws = ws_;
    rt_beast::flat_buffer buffer;
    boost::system::error_code ec;
    co_await ws->async_read(buffer, rt_asio::redirect_error(rt_asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    co_return rt_beast::buffers_to_string(buffer.data());
  }

  rt_asio::awaitable<void> ws_write(const std::string& text) {
    auto ws = ws_;
    if (!ws) co_return;
    boost::system::error_code ec;
    ws->text(true);
    co_await ws->async_write(rt_asio::buffer(text), rt_asio::redirect_error(rt_asio::use_awaitable, ec));
    if (ec) dead = true;
  }

  void handle(const std::string& packet) {
    if (packet == "6") return;
    if (packet == "2") {
      auto self = shared_from_this();
      rt_asio::co_spawn(pong_executor_, self->send("3"), rt_asio::detached);
      return;
    }
    if (packet == "1") {
      dead = true;
      return;
    }
    received.push_back(packet);
    if (on_packet) on_packet(packet);
  }

  rt_asio::awaitable<void> run_poll() {
    auto self = shared_from_this();
    pong_executor_ = co_await rt_asio::this_coro::executor;
    polling_ = true;
    while (!dead && !websocket && !upgrading_) {
      http_call poll{rt_beast::http::verb::get, base() + "&sid=" + sid, {}, headers_};
      http_reply r;
      try {
        r = co_await fetch(port_, poll);
      } catch (const std::exception&) {
        dead = true;
        break;
      }
      if (r.status != 200) {
        dead = true;
        break;
      }
      std::string_view body = r.body;
      while (true) {
        auto sep = body.find('\x1e');
        handle(std::string(body.substr(0, sep)));
        if (sep == std::string_view::npos) break;
        body.remove_prefix(sep + 1);
      }
    }
    polling_ = false;
  }

  rt_asio::awaitable<void> run_ws_reader() {
    auto self = shared_from_this();
    pong_executor_ = co_await rt_asio::this_coro::executor;
    for (;;) {
      auto frame = co_await ws_read();
      if (!frame) {
        dead = true;
        co_return;
      }
      handle(*frame);
    }
  }

  unsigned short port_;
  header_list headers_;
  std::shared_ptr<ws_stream> ws_;
  std::deque<std::string> outbox_;
  bool sending_ = false;
  bool polling_ = false;    // a long-poll loop runs
  bool upgrading_ = false;  // the upgrade has paused polling
  rt_asio::any_io_executor pong_executor_;
};

// Waits until `done()` holds (true) or `limit` has passed (false). `done` is
// a named callable (no temporaries in co_await expressions with GCC 12).
template <class F>
rt_asio::awaitable<bool> wait_until(F& done, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  const auto tick = std::chrono::milliseconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) co_return false;
    co_await sleep_for(tick);
  }
  co_return true;
}

// The first packet `c` received that starts with `prefix`, taken out of
// c.received, waiting up to `limit` for it; nullopt when none came.
inline rt_asio::awaitable<std::optional<std::string>> take_packet(eio_client& c, std::string_view prefix,
                                                                  std::chrono::milliseconds limit) {
  std::optional<std::string> found;
  auto look = [&] {
    for (auto it = c.received.begin(); it != c.received.end(); ++it)
      if (it->starts_with(prefix)) {
        found = std::move(*it);
        c.received.erase(it);
        return true;
      }
    return false;
  };
  co_await wait_until(look, limit);
  co_return found;
}

// Sends CONNECT with `token` (and `org` unless empty); true when accepted.
inline rt_asio::awaitable<bool> connect_namespace(eio_client& c, const std::string& token, const std::string& org) {
  boost::json::object auth{{"token", token}};
  if (!org.empty()) auth["organizationId"] = org;
  std::string packet = "40" + boost::json::serialize(auth);
  co_await c.send(packet);
  std::optional<std::string> answer;
  auto answered = [&] {
    for (auto it = c.received.begin(); it != c.received.end(); ++it)
      if (it->starts_with("40") || it->starts_with("44")) {
        answer = std::move(*it);
        c.received.erase(it);
        return true;
      }
    return c.dead;
  };
  co_await wait_until(answered, std::chrono::seconds(10));
  co_return answer && answer->starts_with("40{\"sid\"");
}

}  // namespace reel::test
