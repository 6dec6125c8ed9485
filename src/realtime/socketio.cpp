#include "realtime/socketio.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <vector>

namespace reel::realtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How far a session's WebSocket has come.
enum class ws_phase : std::uint8_t {
  none,       // polling only
  handshake,  // a WebSocket was asked for; its handshake is under way
  probe,      // the upgrade's WebSocket is open; "2probe" expected
  upgrading,  // "3probe" answered; "5" expected while polling pauses
  open,       // the session's transport is the WebSocket
};

// What only the polling transport needs; dropped once a session has
// upgraded and no poll uses it any more.
struct socketio_server::polling_state {
  explicit polling_state(asio::io_context& io) : wake(io) {}
  std::vector<std::string> queue;
  std::size_t queued_bytes = 0;
  asio::steady_timer wake;  // cancelled whenever the queue or the state changes
  bool get_in_flight = false;
};

struct socketio_server::session final : heartbeat::member,
                                        websocket_connection::listener,
                                        std::enable_shared_from_this<session> {
  session(socketio_server& owner, std::string id) : server(owner), sid(std::move(id)) {}
  ~session() {
    if (ws) ws->close();
  }

  void on_message(std::string_view packet) override { server.on_websocket_message(*this, packet); }
  void on_end(std::string_view why) override { server.on_websocket_end(*this, why); }
  void signal() {
    if (polling) polling->wake.cancel();
  }

  socketio_server& server;
  std::string sid;
  ws_phase phase = ws_phase::none;
  bool closed = false;
  bool connected = false;  // Socket.IO CONNECT accepted
  std::unique_ptr<polling_state> polling;
  std::shared_ptr<websocket_connection> ws;
  std::string cookie_token;
  std::string org_id, login_session_id;
};

namespace {

http::response eio_error(int code, std::string_view message, http::status st = http::status::bad_request) {
  http::response res{st, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = json::serialize(json::object{{"code", code}, {"message", message}});
  res.prepare_payload();
  return res;
}

http::response text(std::string body) {
  http::response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; charset=UTF-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string open_packet(const std::string& sid, bool polling, const socketio_options& o) {
  json::array upgrades;
  if (polling) upgrades.push_back("websocket");
  return "0" + json::serialize(json::object{{"sid", sid},
                                            {"upgrades", upgrades},
                                            {"pingInterval", o.ping_interval.count()},
                                            {"pingTimeout", o.ping_timeout.count()},
                                            {"maxPayload", o.max_payload}});
}

}  // namespace

socketio_server::socketio_server(asio::io_context& io, auth::service& accounts, event_hub& hub,
                                 socketio_options options)
    : io_(io),
      accounts_(accounts),
      hub_(hub),
      options_(options),
      read_buffer_(16 * 1024),
      websocket_settings_{.max_message = options.max_payload,
                          .max_pending = options.max_queued_bytes,
                          .write_timeout = options.write_timeout,
                          .read_buffer = read_buffer_},
      heartbeat_(io, options.ping_interval, options.ping_timeout,
                 {.ping = [this](heartbeat::member& m) { send(static_cast<session&>(m), "2"); },
                  .timed_out = [this](heartbeat::member& m) { close(static_cast<session&>(m), "ping timeout"); }}) {
  subscription_ = hub_.subscribe([this](const event& e) { deliver(e); });
}

socketio_server::~socketio_server() {
  stop();  // no connection may outlive the settings and buffer it reads into
  hub_.unsubscribe(subscription_);
}

void socketio_server::add_routes(http::router& r) {
  r.add(http::verb::get, "/socket.io/", [this](http::context& ctx) -> asio::awaitable<http::response> {
    if (ctx.query("transport") == "websocket") co_return co_await handle_websocket(ctx);
    co_return co_await handle_polling(ctx);
  });
  r.add(http::verb::post, "/socket.io/",
        [this](http::context& ctx) -> asio::awaitable<http::response> { co_return co_await handle_polling(ctx); },
        {.body_limit = options_.max_payload});
}

void socketio_server::send(session& s, std::string_view packet) {
  if (s.closed) return;
  if (s.phase == ws_phase::open) {
    // Written at once when the socket takes it, else kept in order.
    switch (s.ws->send_text(packet)) {
      case websocket_connection::send_result::sent:
        return;
      case websocket_connection::send_result::too_much_pending:
        close(s, "slow consumer");
        return;
      case websocket_connection::send_result::failed:
        close(s, "write failed");
        return;
    }
    return;
  }
  if (!s.polling) return;
  s.polling->queued_bytes += packet.size();
  s.polling->queue.emplace_back(packet);
  if (s.polling->queued_bytes > options_.max_queued_bytes) {
    close(s, "slow consumer");
    return;
  }
  s.signal();
}

void socketio_server::close(session& s, std::string_view why) {
  if (s.closed) return;
  s.closed = true;
  log::debug("socket.io session closed", {{"sid", s.sid}, {"why", why}});
  if (!s.org_id.empty()) {
    auto it = rooms_.find(s.org_id);
    if (it != rooms_.end()) {
      it->second.erase(&s);
      if (it->second.empty()) rooms_.erase(it);
    }
  }
  heartbeat_.stop(s);
  s.signal();
  if (s.ws) s.ws->close();
  if (auto it = sessions_.find(s.sid); it != sessions_.end()) {
    auto last = std::move(it->second);  // the key views s.sid: erase the entry before the session goes
    sessions_.erase(it);
  }  // the session may be gone now
}

void socketio_server::stop() {
  std::vector<std::shared_ptr<session>> all;
  for (auto& [sid, s] : sessions_) all.push_back(s);
  for (auto& s : all) close(*s, "server shutdown");
}

void socketio_server::session_revoked(const std::string& session_id) {
  std::vector<std::shared_ptr<session>> hit;
  for (auto& [sid, s] : sessions_)
    if (s->login_session_id == session_id) hit.push_back(s);
  for (auto& s : hit) {
    send(*s, "41");  // Socket.IO disconnect: the client does not reconnect by itself
    auto victim = s;
    asio::post(io_, [this, victim] { close(*victim, "logged out"); });
  }
}

void socketio_server::deliver(const event& e) {
  auto it = rooms_.find(e.organization_id);
  if (it == rooms_.end()) return;
  std::string packet = "42" + json::serialize(json::array{json::value(e.name), e.payload});
  std::vector<session*> members(it->second.begin(), it->second.end());
  for (auto* s : members)
    if (s->connected) send(*s, packet);
}

bool socketio_server::on_packet(const std::shared_ptr<session>& s, std::string_view packet) {
  if (packet.empty()) return false;
  switch (packet[0]) {
    case '1':
      close(*s, "client close");
      return true;
    case '3':
      heartbeat_.pong(*s);
      return true;
    case '4': {
      std::string payload(packet.substr(1));
      asio::co_spawn(io_, on_message(s, payload), [sid = s->sid](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::warn("socket.io message failed", {{"sid", sid}, {"error", ex.what()}});
        }
      });
      return true;
    }
    case '6':
      return true;
    default:  // '2' from a client is the wrong heartbeat direction in v4
      return false;
  }
}

asio::awaitable<void> socketio_server::on_message(std::shared_ptr<session> s, std::string payload) {
  if (payload.empty() || s->closed) co_return;
  char type = payload[0];
  std::string_view rest = std::string_view(payload).substr(1);
  std::string nsp = "/";
  if (!rest.empty() && rest.front() == '/') {
    auto comma = rest.find(',');
    nsp = std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (type == '0') {  // CONNECT
    if (nsp != "/") {
      send(*s, "44" + nsp + "," + json::serialize(json::object{{"message", "Invalid namespace"}}));
      co_return;
    }
    std::string token = s->cookie_token, org;
    if (!rest.empty()) {
      boost::system::error_code ec;
      auto auth = json::parse(rest, ec);
      if (ec || !auth.is_object()) {
        close(*s, "malformed CONNECT");
        co_return;
      }
      if (auto* t = auth.as_object().if_contains("token"); t && t->is_string()) token = std::string(t->as_string());
      if (auto* o = auth.as_object().if_contains("organizationId"); o && o->is_string())
        org = std::string(o->as_string());
    }
    std::shared_ptr<const auth::principal> who;
    if (!token.empty()) who = co_await accounts_.authenticate(token);
    if (s->closed) co_return;
    const store::membership* m = nullptr;
    if (who)
      m = org.empty() ? (who->memberships.empty() ? nullptr : &who->memberships.front()) : who->membership_in(org);
    if (!who || !m) {
      send(*s, "44" + json::serialize(json::object{{"message", "unauthorized"}}));
      co_return;
    }
    s->org_id = m->org.id;
    s->login_session_id = who->session_id;
    s->connected = true;
    rooms_[s->org_id].insert(s.get());
    send(*s, "40" + json::serialize(json::object{{"sid", ids::random_id(12)}}));
    co_return;
  }
  if (!s->connected) {
    close(*s, "packet before CONNECT");
    co_return;
  }
  if (type == '1') {  // DISCONNECT
    s->connected = false;
    if (auto it = rooms_.find(s->org_id); it != rooms_.end()) it->second.erase(s.get());
    co_return;
  }
  if (type == '2') {  // EVENT, maybe asking for an ack
    std::size_t digits = 0;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    std::string ack(rest.substr(0, digits));
    boost::system::error_code ec;
    auto args = json::parse(rest.substr(digits), ec);
    if (ec || !args.is_array() || args.as_array().empty() || !args.as_array()[0].is_string() || ack.size() > 9) {
      close(*s, "malformed EVENT");
      co_return;
    }
    if (!ack.empty()) send(*s, "43" + ack + "[]");
    co_return;
  }
  if (type == '3') co_return;  // ACK of something we never asked: ignore
  close(*s, "unknown Socket.IO packet");
}

asio::awaitable<http::response> socketio_server::handle_polling(http::context& ctx) {
  if (ctx.query("EIO") != "4") co_return eio_error(5, "Unsupported protocol version");
  if (ctx.query("transport") != "polling") co_return eio_error(0, "Transport unknown");
  auto sid = ctx.query("sid");
  if (!sid) {
    if (ctx.req.method() != http::verb::get) co_return eio_error(2, "Bad handshake method");
    auto s = std::make_shared<session>(*this, ids::random_id(15));
    s->polling = std::make_unique<polling_state>(io_);
    if (const auto* c = ctx.cookie("reel_session")) s->cookie_token = *c;
    sessions_.emplace(s->sid, s);
    heartbeat_.start(*s);
    co_return text(open_packet(s->sid, true, options_));
  }
  auto it = sessions_.find(*sid);
  if (it == sessions_.end()) co_return eio_error(1, "Session ID unknown");
  auto s = it->second;
  if (s->phase == ws_phase::open) co_return eio_error(3, "Bad request");
  if (ctx.req.method() == http::verb::post) {
    std::string_view body = ctx.req.body();
    while (!body.empty()) {
      auto sep = body.find('\x1e');
      if (!on_packet(s, body.substr(0, sep))) {
        close(*s, "malformed packet");
        co_return eio_error(3, "Bad request");
      }
      if (sep == std::string_view::npos) break;
      body.remove_prefix(sep + 1);
    }
    co_return text("ok");
  }
  if (s->polling->get_in_flight) {
    close(*s, "overlapping GET");
    co_return eio_error(3, "Bad request");
  }
  s->polling->get_in_flight = true;
  while (s->polling->queue.empty() && !s->closed && s->phase < ws_phase::upgrading) {
    s->polling->wake.expires_at(asio::steady_timer::time_point::max());
    co_await s->polling->wake.async_wait(use_tuple);
  }
  s->polling->get_in_flight = false;
  if (s->closed && s->polling->queue.empty()) co_return text("1");
  if (s->phase >= ws_phase::upgrading) {
    if (s->phase == ws_phase::open) s->polling.reset();  // upgraded: this was the last poll
    co_return text("6");
  }
  std::string body;
  for (auto& p : s->polling->queue) {
    if (!body.empty()) body += '\x1e';
    body += p;
  }
  s->polling->queue.clear();
  s->polling->queued_bytes = 0;
  co_return text(std::move(body));
}

asio::awaitable<http::response> socketio_server::handle_websocket(http::context& ctx) {
  if (ctx.query("EIO") != "4") co_return eio_error(5, "Unsupported protocol version");
  if (!websocket::is_upgrade(ctx.req)) co_return eio_error(3, "Bad request");
  std::shared_ptr<session> s;
  bool upgrade = false;
  if (auto sid = ctx.query("sid")) {
    auto it = sessions_.find(*sid);
    if (it == sessions_.end()) co_return eio_error(1, "Session ID unknown");
    s = it->second;
    if (s->phase != ws_phase::none) co_return eio_error(3, "Bad request");  // one WebSocket per session
    upgrade = true;
  } else {
    s = std::make_shared<session>(*this, ids::random_id(15));
    if (const auto* c = ctx.cookie("reel_session")) s->cookie_token = *c;
  }
  s->phase = ws_phase::handshake;
  http::response res;
  res.takeover = [this, s, upgrade](beast::tcp_stream stream, http::request req) {
    return run_handshake(s, std::move(stream), std::move(req), upgrade);
  };
  co_return res;
}

asio::awaitable<void> socketio_server::run_handshake(std::shared_ptr<session> s, beast::tcp_stream stream,
                                                     http::request req, bool upgrade) {
  // Beast answers the handshake (101); after that the socket is the
  // websocket_connection's, and this coroutine (with Beast's stream and its
  // buffers) ends: an idle session costs no coroutine frame.
  asio::ip::tcp::socket sock(io_);
  {
    stream.expires_after(std::chrono::seconds(10));
    websocket::stream<beast::tcp_stream> ws(std::move(stream));
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) {
      if (upgrade && s->phase == ws_phase::handshake) s->phase = ws_phase::none;
      co_return;
    }
    beast::get_lowest_layer(ws).expires_never();
    sock = beast::get_lowest_layer(ws).release_socket();
  }
  auto adopted = websocket_connection::adopt(io_, std::move(sock));
  if (!adopted || s->closed) {  // the polling session may have ended meanwhile
    if (upgrade && s->phase == ws_phase::handshake) s->phase = ws_phase::none;
    co_return;
  }
  std::weak_ptr<websocket_connection::listener> listener = s;
  s->ws = std::make_shared<websocket_connection>(std::move(*adopted), std::move(listener), websocket_settings_);
  if (upgrade) {
    s->phase = ws_phase::probe;
  } else {
    s->phase = ws_phase::open;
    sessions_.emplace(s->sid, s);
    heartbeat_.start(*s);
    send(*s, open_packet(s->sid, false, options_));
  }
  s->ws->start();
}

void socketio_server::on_websocket_message(session& s, std::string_view packet) {
  switch (s.phase) {
    case ws_phase::probe:
      if (packet != "2probe" || s.ws->send_text("3probe") != websocket_connection::send_result::sent) {
        abandon_upgrade(s);
        return;
      }
      s.phase = ws_phase::upgrading;
      s.signal();  // the poll in flight answers with a noop
      return;
    case ws_phase::upgrading:
      if (packet != "5") {
        abandon_upgrade(s);
        return;
      }
      s.phase = ws_phase::open;
      // Everything queued for polling now goes out as frames.
      for (const auto& p : s.polling->queue) {
        send(s, p);
        if (s.closed) return;
      }
      s.polling->queue.clear();
      s.polling->queued_bytes = 0;
      if (s.polling->get_in_flight)
        s.signal();  // that poll answers with a noop, then drops the polling state
      else
        s.polling.reset();
      return;
    case ws_phase::open:
      if (!on_packet(s.shared_from_this(), packet)) close(s, "malformed packet");
      return;
    case ws_phase::none:
    case ws_phase::handshake:
      return;
  }
}

void socketio_server::on_websocket_end(session& s, std::string_view why) {
  if (s.phase == ws_phase::open)
    close(s, why);
  else
    abandon_upgrade(s);
}

void socketio_server::abandon_upgrade(session& s) {
  if (s.ws) s.ws->close();
  s.ws.reset();
  s.phase = ws_phase::none;
  s.signal();
}

}  // namespace reel::realtime
