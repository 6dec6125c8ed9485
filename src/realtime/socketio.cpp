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

#include <sys/socket.h>
#include <cerrno>

namespace reel::realtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace websocket = beast::websocket;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct socketio_server::session {
  std::string sid;
  bool websocket = false;  // the transport in use
  bool upgrading = false;
  bool closed = false;
  std::vector<std::string> queue;
  std::size_t queued_bytes = 0;
  asio::steady_timer wake;  // cancelled whenever the queue or the state changes
  asio::steady_timer ping;
  bool pong_pending = false;
  bool get_in_flight = false;
  // WebSocket: the socket (for direct writes) and whether a write is in progress.
  int fd = -1;
  bool writing = false;
  std::string raw_pending;            // encoded frames still to be written, in order
  std::function<void()> kick_writer;  // starts a writer for raw_pending
  std::string cookie_token;
  // Socket.IO
  bool connected = false;
  std::string org_id, login_session_id;
  std::function<void()> close_transport;

  explicit session(asio::io_context& io) : wake(io), ping(io) {}
  void signal() { wake.cancel(); }
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
    : io_(io), accounts_(accounts), hub_(hub), options_(options) {
  subscription_ = hub_.subscribe([this](const event& e) { deliver(e); });
}

socketio_server::~socketio_server() { hub_.unsubscribe(subscription_); }

void socketio_server::add_routes(http::router& r) {
  r.add(http::verb::get, "/socket.io/", [this](http::context& ctx) -> asio::awaitable<http::response> {
    if (ctx.query("transport") == "websocket") co_return co_await handle_websocket(ctx);
    co_return co_await handle_polling(ctx);
  });
  r.add(http::verb::post, "/socket.io/",
        [this](http::context& ctx) -> asio::awaitable<http::response> { co_return co_await handle_polling(ctx); },
        {.body_limit = options_.max_payload});
}

namespace {

// One unmasked WebSocket text frame (server to client), FIN set.
std::string text_frame(std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 10);
  f += static_cast<char>(0x81);
  std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n < 65536) {
    f += static_cast<char>(126);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
  }
  f += payload;
  return f;
}

}  // namespace

void socketio_server::send(session& s, std::string packet) {
  if (s.closed) return;
  if (s.websocket && s.fd >= 0) {
    // WebSocket: frames are written straight to the socket when nothing is
    // pending (a broadcast costs one send(2) per client, no coroutine), and
    // otherwise appended for the writer. Either way, in order.
    std::string frame = text_frame(packet);
    if (!s.writing && s.raw_pending.empty()) {
      ssize_t n = ::send(s.fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n == static_cast<ssize_t>(frame.size())) return;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        close(s, "write failed");
        return;
      }
      frame.erase(0, n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    s.raw_pending += frame;
    if (s.raw_pending.size() > options_.max_queued_bytes) {
      close(s, "slow consumer");
      return;
    }
    if (s.kick_writer) s.kick_writer();
    return;
  }
  s.queued_bytes += packet.size();
  s.queue.push_back(std::move(packet));
  if (s.queued_bytes > options_.max_queued_bytes) {
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
  s.ping.cancel();
  s.signal();
  if (s.close_transport) s.close_transport();
  sessions_.erase(s.sid);
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

asio::awaitable<void> socketio_server::run_pings(std::shared_ptr<session> s) {
  while (!s->closed) {
    s->ping.expires_after(options_.ping_interval);
    co_await s->ping.async_wait(use_tuple);
    if (s->closed) break;
    s->pong_pending = true;
    send(*s, "2");
    s->ping.expires_after(options_.ping_timeout);
    co_await s->ping.async_wait(use_tuple);
    if (s->closed) break;
    if (s->pong_pending) close(*s, "ping timeout");
  }
}

bool socketio_server::on_packet(const std::shared_ptr<session>& s, std::string_view packet) {
  if (packet.empty()) return false;
  switch (packet[0]) {
    case '1':
      close(*s, "client close");
      return true;
    case '3':
      s->pong_pending = false;
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
    auto s = std::make_shared<session>(io_);
    s->sid = ids::random_id(15);
    if (const auto* c = ctx.cookie("reel_session")) s->cookie_token = *c;
    sessions_.emplace(s->sid, s);
    asio::co_spawn(io_, run_pings(s), asio::detached);
    co_return text(open_packet(s->sid, true, options_));
  }
  auto it = sessions_.find(*sid);
  if (it == sessions_.end()) co_return eio_error(1, "Session ID unknown");
  auto s = it->second;
  if (s->websocket) co_return eio_error(3, "Bad request");
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
  if (s->get_in_flight) {
    close(*s, "overlapping GET");
    co_return eio_error(3, "Bad request");
  }
  s->get_in_flight = true;
  while (s->queue.empty() && !s->closed && !s->upgrading && !s->websocket) {
    s->wake.expires_at(asio::steady_timer::time_point::max());
    co_await s->wake.async_wait(use_tuple);
  }
  s->get_in_flight = false;
  if (s->closed && s->queue.empty()) co_return text("1");
  if (s->upgrading || s->websocket) co_return text("6");
  std::string body;
  for (auto& p : s->queue) {
    if (!body.empty()) body += '\x1e';
    body += p;
  }
  s->queue.clear();
  s->queued_bytes = 0;
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
    if (s->websocket || s->upgrading) co_return eio_error(3, "Bad request");
    upgrade = true;
  } else {
    s = std::make_shared<session>(io_);
    s->sid = ids::random_id(15);
    s->websocket = true;
    if (const auto* c = ctx.cookie("reel_session")) s->cookie_token = *c;
  }
  http::response res;
  res.takeover = [this, s, upgrade](beast::tcp_stream stream, http::request req) {
    return run_websocket(s, std::move(stream), std::move(req), upgrade);
  };
  co_return res;
}

asio::awaitable<void> socketio_server::run_websocket(std::shared_ptr<session> s, beast::tcp_stream stream,
                                                     http::request req, bool upgrade) {
  // Beast answers the handshake (101); after that the socket is ours: frames
  // are parsed here with one small buffer and written raw, so that an idle
  // connection costs a few KiB, not a Beast stream with its buffers.
  asio::ip::tcp::socket sock(io_);
  {
    stream.expires_after(std::chrono::seconds(10));
    websocket::stream<beast::tcp_stream> ws(std::move(stream));
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) co_return;
    beast::get_lowest_layer(ws).expires_never();
    sock = beast::get_lowest_layer(ws).release_socket();
  }
  req = {};
  s->fd = sock.native_handle();
  s->close_transport = [&sock] {
    boost::system::error_code ignored;
    sock.cancel(ignored);
  };
  s->kick_writer = [this, weak = std::weak_ptr<session>(s), &sock] {
    if (auto sp = weak.lock()) start_writer(sp, sock);
  };
  if (!upgrade) {
    sessions_.emplace(s->sid, s);
    asio::co_spawn(io_, run_pings(s), asio::detached);
    s->raw_pending += text_frame(open_packet(s->sid, false, options_));
    start_writer(s, sock);
  }
  enum class phase { probe, finish_upgrade, open } state = upgrade ? phase::probe : phase::open;

  std::string in;       // bytes received, not yet parsed
  std::string message;  // a text message being reassembled from fragments
  char chunk[512];
  bool done = false;
  while (!done && !s->closed) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) break;
    in.append(chunk, n);
    // Parse every complete frame in `in`.
    while (!done) {
      if (in.size() < 2) break;
      auto b0 = static_cast<unsigned char>(in[0]), b1 = static_cast<unsigned char>(in[1]);
      bool fin = b0 & 0x80, masked = b1 & 0x80;
      unsigned opcode = b0 & 0x0f;
      std::uint64_t len = b1 & 0x7f;
      std::size_t header = 2;
      if (len == 126) {
        if (in.size() < 4) break;
        len = (std::uint64_t(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
        header = 4;
      } else if (len == 127) {
        if (in.size() < 10) break;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in[2 + i]);
        header = 10;
      }
      if (!masked || (b0 & 0x70) || len + message.size() > options_.max_payload) {
        done = true;  // clients must mask; no extensions; too big
        break;
      }
      if (in.size() < header + 4 + len) break;
      const char* key = in.data() + header;
      std::string payload = in.substr(header + 4, len);
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
      in.erase(0, header + 4 + len);

      if (opcode == 0x8) {  // close: answer it and end
        ::send(s->fd, "\x88\x00", 2, MSG_DONTWAIT | MSG_NOSIGNAL);
        done = true;
      } else if (opcode == 0x9) {  // ping: pong with the same payload
        std::string pong = text_frame(payload);
        pong[0] = static_cast<char>(0x8A);
        s->raw_pending += pong;
        start_writer(s, sock);
      } else if (opcode == 0xA) {
      } else if (opcode == 0x1 || opcode == 0x0) {
        if (opcode == 0x1 && !message.empty()) {
          done = true;  // a new message inside a fragmented one
          break;
        }
        message += payload;
        if (!fin) continue;
        std::string packet;
        packet.swap(message);
        if (state == phase::probe) {
          if (packet != "2probe") {
            done = true;
            break;
          }
          s->raw_pending += text_frame("3probe");
          start_writer(s, sock);
          s->upgrading = true;
          s->signal();  // the poll in flight answers with a noop
          state = phase::finish_upgrade;
        } else if (state == phase::finish_upgrade) {
          if (packet != "5") {
            done = true;
            break;
          }
          state = phase::open;
          s->upgrading = false;
          s->websocket = true;
          // Everything queued for polling now goes out as frames.
          for (auto& p : s->queue) s->raw_pending += text_frame(p);
          s->queue.clear();
          s->queued_bytes = 0;
          start_writer(s, sock);
          s->signal();
        } else if (!on_packet(s, packet)) {
          close(*s, "malformed packet");
          done = true;
        }
      } else {  // binary frames are not supported
        done = true;
      }
    }
  }
  if (state != phase::open) s->upgrading = false;
  s->fd = -1;
  s->close_transport = nullptr;
  s->kick_writer = nullptr;
  {
    boost::system::error_code ignored;
    sock.cancel(ignored);  // a writer blocked on a reader that stopped reading gives up now
  }
  if (state == phase::open) close(*s, "transport closed");
  s->signal();
  // Wait for a writer still using the socket, then close it.
  while (s->writing) {
    asio::steady_timer settle(io_);
    settle.expires_after(std::chrono::milliseconds(5));
    co_await settle.async_wait(use_tuple);
  }
  boost::system::error_code ignored;
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

void socketio_server::start_writer(const std::shared_ptr<session>& s, asio::ip::tcp::socket& sock) {
  if (s->writing || s->raw_pending.empty()) return;
  s->writing = true;
  asio::co_spawn(io_, run_writer(s, sock), asio::detached);
}

// Writes raw_pending until it is empty. The socket outlives it: the reader
// (run_websocket) waits for `writing` to drop before closing the socket.
asio::awaitable<void> socketio_server::run_writer(std::shared_ptr<session> s, asio::ip::tcp::socket& sock) {
  asio::steady_timer deadline(io_);
  while (!s->raw_pending.empty() && s->fd >= 0) {
    std::string chunk;
    chunk.swap(s->raw_pending);
    // A reader that takes longer than this for one batch is gone.
    deadline.expires_after(std::chrono::seconds(30));
    deadline.async_wait([&sock](boost::system::error_code ec) {
      boost::system::error_code ignored;
      if (!ec) sock.cancel(ignored);
    });
    auto [ec, n] = co_await asio::async_write(sock, asio::buffer(chunk), use_tuple);
    deadline.cancel();
    if (ec) break;
  }
  s->writing = false;
}

}  // namespace reel::realtime
