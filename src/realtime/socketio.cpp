#include "realtime/socketio.hpp"

#include "domain/permissions.hpp"

#include "core/async.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "http/client_address.hpp"
#include "http/same_site.hpp"
#include "realtime/packets.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
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
  explicit polling_state(asio::io_context& io) : wake(io), linger(io) {}
  std::vector<std::string> queue;
  std::size_t queued_bytes = 0;
  asio::steady_timer wake;    // cancelled whenever the queue or the state changes
  asio::steady_timer linger;  // closed by the server: how long the session waits for its last poll
  bool get_in_flight = false;
};

// Sessions per client address. Shared with the sessions' slots, which may
// outlive the server by a moment at shutdown.
struct socketio_server::address_counts {
  std::unordered_map<std::string, std::size_t> by_address;
};

// One session's place in its client address's count: taken when the
// session is made, given back when it goes.
class address_slot {
 public:
  address_slot(std::shared_ptr<socketio_server::address_counts> counts, std::string address);
  ~address_slot();
  address_slot(const address_slot&) = delete;
  address_slot& operator=(const address_slot&) = delete;
  const std::string& address() const noexcept { return address_; }

 private:
  std::weak_ptr<socketio_server::address_counts> counts_;
  std::string address_;
};

// Where a session's Socket.IO namespace connection stands.
enum class nsp_state : std::uint8_t {
  none,        // no CONNECT accepted (yet, or since DISCONNECT)
  connecting,  // a CONNECT is being authenticated
  connected,   // in its organization's room
};

struct socketio_server::session final : heartbeat::member,
                                        websocket_connection::listener,
                                        std::enable_shared_from_this<session> {
  session(socketio_server& owner, std::string id, std::uint64_t n, std::shared_ptr<address_counts> counts,
          std::string address)
      : server(owner), sid(std::move(id)), serial(n), slot(std::move(counts), std::move(address)) {}
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
  const std::uint64_t serial;  // never reused: the session's key in its room
  address_slot slot;           // the client address that opened the session; every later request must come from it
  ws_phase phase = ws_phase::none;
  nsp_state nsp = nsp_state::none;
  bool closed = false;
  bool closed_by_client = false;  // the client sent Engine.IO's close (`1`)
  bool post_in_flight = false;    // a polling POST is being handled (one at a time)
  std::unique_ptr<polling_state> polling;
  std::shared_ptr<websocket_connection> ws;
  std::string cookie_token;
  std::chrono::steady_clock::time_point connect_due{};  // close unless connected by then
  // The namespace connection's principal while nsp is connected: who, in
  // which organization, by which credential, until when.
  credential_kind credential = credential_kind::login_session;
  model::role role = model::role::viewer;
  std::string credential_id, user_id, org_id;
  sys_time expires_at{};
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

// Over the per-address limit: Engine.IO's error shape, with 429.
http::response too_many_sessions() {
  auto res = eio_error(4, "Too many connections from this address", http::status::too_many_requests);
  res.set(http::field::retry_after, "10");
  return res;
}

// Completes the WebSocket handshake, then closes with a close frame without
// a code (Node's ws.close()), waiting a little for the client's.
asio::awaitable<void> run_refused_websocket(beast::tcp_stream stream, http::request req) {
  stream.expires_after(std::chrono::seconds(10));
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  auto [accepted] = co_await ws.async_accept(req, use_tuple);
  if (accepted) co_return;
  auto [closed] = co_await ws.async_close(websocket::close_reason{}, use_tuple);
  (void)closed;  // a client that does not answer the close is cut by the deadline
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

address_slot::address_slot(std::shared_ptr<socketio_server::address_counts> counts, std::string address)
    : counts_(counts), address_(std::move(address)) {
  ++counts->by_address[address_];
}

address_slot::~address_slot() {
  auto counts = counts_.lock();
  if (!counts) return;
  auto it = counts->by_address.find(address_);
  if (it != counts->by_address.end() && --it->second == 0) counts->by_address.erase(it);
}

socketio_server::socketio_server(asio::io_context& io, domain::accounts& accounts, event_hub& hub,
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
      per_address_(std::make_shared<address_counts>()),
      connect_timer_(io),
      heartbeat_(io, options.ping_interval, options.ping_timeout,
                 {.ping = [this](heartbeat::member& m) { on_heartbeat_ping(static_cast<session&>(m)); },
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
  // Every other method (HEAD and OPTIONS too; a CORS preflight is answered
  // before routing): 400 with Engine.IO's error body, as Node answers, not 405.
  auto refuse = [this](http::context& ctx) -> asio::awaitable<http::response> { co_return refuse_method(ctx); };
  for (int v = static_cast<int>(http::verb::unknown); v <= static_cast<int>(http::verb::unlink); ++v) {
    auto method = static_cast<http::verb>(v);
    if (method != http::verb::get && method != http::verb::post) r.add(method, "/socket.io/", refuse);
  }
}

http::response socketio_server::refuse_method(const http::context& ctx) const {
  // In the order Node checks: the transport, the session, then the method.
  auto transport = ctx.query("transport");
  if (transport != "polling" && transport != "websocket") return eio_error(0, "Transport unknown");
  auto sid = ctx.query("sid");
  if (!sid) return eio_error(2, "Bad handshake method");
  if (!find_session(*sid, http::client_address(ctx, options_.trusted_proxies)))
    return eio_error(1, "Session ID unknown");
  return eio_error(3, "Bad request");  // (Node: 500 without a body)
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

void socketio_server::close(session& s, std::string_view why, ending how) {
  if (s.closed) return;
  s.closed = true;
  log::debug("socket.io session closed", {{"sid", s.sid}, {"why", why}});
  leave_namespace(s);
  heartbeat_.stop(s);
  s.signal();
  if (s.ws) s.ws->close();
  auto it = sessions_.find(s.sid);
  if (it == sessions_.end()) return;
  auto last = std::move(it->second);  // the key views s.sid: erase the entry before the session goes
  sessions_.erase(it);
  // A polling client learns of an orderly close from a poll, as from Node's:
  // the one waiting now, or the next (for which the session waits a moment,
  // Node up to 30 s, still counted against its address).
  if (how != ending::orderly || stopped_ || s.phase == ws_phase::open || !s.polling) return;
  closed_polls_.emplace(last->sid, last);
  last->polling->linger.expires_after(
      std::min<std::chrono::milliseconds>(options_.ping_timeout, std::chrono::seconds(5)));
  last->polling->linger.async_wait([this, weak = std::weak_ptr<session>(last)](boost::system::error_code ec) {
    auto s = weak.lock();
    if (ec || !s) return;
    forget(*s);
  });
}  // the session may be gone now

void socketio_server::forget(session& s) {
  if (s.polling) s.polling->linger.cancel();
  if (auto it = closed_polls_.find(s.sid); it != closed_polls_.end()) {
    auto last = std::move(it->second);
    closed_polls_.erase(it);
  }
}

http::response socketio_server::last_poll(session& s, bool waited) {
  if (s.closed_by_client) return text("6");  // Node answers the poll a client's close leaves waiting with a noop
  bool lingering = closed_polls_.contains(s.sid);
  std::string body;
  for (auto& p : s.polling->queue) {
    if (!body.empty()) body += '\x1e';
    body += p;
  }
  s.polling->queue.clear();
  s.polling->queued_bytes = 0;
  // What was queued goes first; the close packet then comes with the next poll (Node's order).
  if (!body.empty() && lingering) return text(std::move(body));
  forget(s);
  if (!body.empty())
    return text(body +
                "\x1e"
                "1");  // no next poll (a shutdown): both at once
  // A poll that was not waiting when the session closed gets a noop before the close, as from Node.
  return text(waited ? "1"
                     : "6\x1e"
                       "1");
}

void socketio_server::leave_namespace(session& s) {
  if (s.nsp == nsp_state::connected) {
    if (auto it = rooms_.find(s.org_id); it != rooms_.end()) {
      it->second.erase(s.serial);
      if (it->second.empty()) rooms_.erase(it);
    }
  }
  s.nsp = nsp_state::none;
  s.credential_id.clear();
  s.user_id.clear();
  s.org_id.clear();
}

void socketio_server::disconnect(session& s, std::string_view why) {
  if (s.closed) return;
  leave_namespace(s);  // nothing more reaches it from now on
  send(s, "41");       // Socket.IO disconnect: the client does not reconnect by itself
  if (s.closed) return;
  if (s.phase != ws_phase::open) {
    // Polling: the 41 goes with the poll waiting now or the next one, the
    // close with the poll after (close() keeps the session for them). From
    // now on the session takes nothing from the client.
    close(s, why, ending::orderly);
    return;
  }
  auto victim = s.shared_from_this();
  asio::post(io_, [this, victim, reason = std::string(why)] { close(*victim, reason, ending::orderly); });
}

void socketio_server::stop() {
  stopped_ = true;
  std::vector<std::shared_ptr<session>> all;
  for (auto& [sid, s] : sessions_) all.push_back(s);
  for (auto& s : all) close(*s, "server shutdown");
  all.clear();
  for (auto& [sid, s] : closed_polls_) all.push_back(s);
  for (auto& s : all) forget(*s);
  connect_deadlines_.clear();
  connect_timer_.cancel();
}

void socketio_server::session_revoked(const std::string& session_id) {
  credential_revoked(credential_kind::login_session, session_id);
}

void socketio_server::credential_revoked(credential_kind kind, const std::string& id) {
  ++revocations_;  // CONNECTs being authenticated now authenticate again
  std::vector<std::shared_ptr<session>> hit;
  for (auto& [sid, s] : sessions_)
    if (s->nsp == nsp_state::connected && s->credential == kind && s->credential_id == id) hit.push_back(s);
  for (auto& s : hit) disconnect(*s, "credential revoked");
}

void socketio_server::take_cookie(session& s, const http::context& ctx) const {
  const auto* c = ctx.cookie("reel_session");
  if (!c) return;
  // A page of another site may open a socket here, and the browser sends the
  // cookie with it: that socket must authenticate with a token of its own.
  if (auto why = http::cross_site(ctx, options_.trusted_origins)) {
    log::info("socket.io: session cookie of a cross-site request ignored", {{"why", *why}});
    return;
  }
  s.cookie_token = *c;
}

void socketio_server::membership_changed(const std::string& org_id, const std::string& user_id,
                                         std::optional<model::role> role) {
  ++revocations_;
  auto room = rooms_.find(org_id);
  if (room == rooms_.end()) return;
  std::vector<std::shared_ptr<session>> hit;
  for (auto& [serial, weak] : room->second)
    if (auto s = weak.lock(); s && s->user_id == user_id) hit.push_back(std::move(s));
  for (auto& s : hit) {
    if (role)
      s->role = *role;  // still a member: listening is every role's right
    else
      disconnect(*s, "removed from the organization");
  }
}

std::size_t socketio_server::sessions_of(const std::string& address) const {
  auto it = per_address_->by_address.find(address);
  return it == per_address_->by_address.end() ? 0 : it->second;
}

std::size_t socketio_server::room_size(const std::string& org_id) const {
  auto it = rooms_.find(org_id);
  return it == rooms_.end() ? 0 : it->second.size();
}

void socketio_server::deliver(const event& e) {
  auto it = rooms_.find(e.organization_id);
  if (it == rooms_.end()) return;
  std::string packet = "42" + json::serialize(json::array{json::value(e.name), e.payload});
  // Sending may close sessions, and so change the room: walk a copy.
  std::vector<std::shared_ptr<session>> members;
  members.reserve(it->second.size());
  for (auto& [serial, weak] : it->second)
    if (auto s = weak.lock()) members.push_back(std::move(s));
  for (auto& s : members)
    if (!s->closed && s->nsp == nsp_state::connected && s->org_id == e.organization_id) send(*s, packet);
}

std::shared_ptr<socketio_server::session> socketio_server::new_session(const std::string& address) {
  if (options_.max_sessions_per_address > 0 && sessions_of(address) >= options_.max_sessions_per_address)
    return nullptr;
  return std::make_shared<session>(*this, ids::random_id(15), ++next_serial_, per_address_, address);
}

std::shared_ptr<socketio_server::session> socketio_server::find_session(const std::string& sid,
                                                                        const std::string& address) const {
  auto it = sessions_.find(sid);
  // A sid used from another address is unknown there: a leaked sid is of no use to anyone else.
  if (it == sessions_.end() || it->second->slot.address() != address) return nullptr;
  return it->second;
}

std::shared_ptr<socketio_server::session> socketio_server::find_closed_poll(const std::string& sid,
                                                                            const std::string& address) const {
  auto it = closed_polls_.find(sid);
  if (it == closed_polls_.end() || it->second->slot.address() != address) return nullptr;
  return it->second;
}

void socketio_server::expect_connect(session& s) {
  s.connect_due = std::chrono::steady_clock::now() + options_.connect_timeout;
  connect_deadlines_.push_back({s.connect_due, s.weak_from_this()});
  arm_connect_timer();
}

void socketio_server::arm_connect_timer() {
  if (connect_timer_armed_ || connect_deadlines_.empty()) return;
  connect_timer_armed_ = true;
  connect_timer_.expires_at(connect_deadlines_.front().due);
  connect_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled (stop), or the server is going
    connect_timer_armed_ = false;
    const auto now = std::chrono::steady_clock::now();
    while (!connect_deadlines_.empty() && connect_deadlines_.front().due <= now) {
      auto s = connect_deadlines_.front().s.lock();
      connect_deadlines_.pop_front();
      // A later deadline of the same session (after a DISCONNECT) has its own entry.
      if (s && !s->closed && s->nsp != nsp_state::connected && s->connect_due <= now)
        close(*s, "no namespace connection in time", ending::orderly);
    }
    arm_connect_timer();
  });
}

void socketio_server::on_heartbeat_ping(session& s) {
  if (s.nsp == nsp_state::connected && accounts_.time().now() >= s.expires_at) {
    disconnect(s, "login session expired");
    return;
  }
  send(s, "2");
}

bool socketio_server::on_packet(const std::shared_ptr<session>& s, std::string_view packet) {
  auto p = parse_eio_packet(packet);
  if (!p) return false;
  switch (p->type) {
    case eio_packet::kind::close:
      s->closed_by_client = true;
      close(*s, "client close");
      return true;
    case eio_packet::kind::pong:
      heartbeat_.pong(*s);
      return true;
    case eio_packet::kind::message:
      on_message(s, p->data);
      return true;
    case eio_packet::kind::noop:
      return true;
  }
  return false;
}

void socketio_server::on_message(const std::shared_ptr<session>& s, std::string_view payload) {
  auto packet = parse_sio_packet(payload);
  if (!packet || s->closed) return;
  const char type = packet->type;
  const std::string_view nsp = packet->nsp, rest = packet->rest;
  if (type == '0') {  // CONNECT
    if (nsp != "/") {
      send(*s, "44" + std::string(nsp) + "," + json::serialize(json::object{{"message", "Invalid namespace"}}));
      return;
    }
    // One namespace connection per session: a second CONNECT, while the
    // first is being authenticated or after it was accepted, is a protocol
    // error (Node's server closes the connection too). It never joins a
    // second room nor changes the first one's organization.
    if (s->nsp != nsp_state::none) {
      close(*s, "second CONNECT", ending::orderly);
      return;
    }
    auto auth = parse_connect_auth(rest);
    if (!auth) {
      close(*s, "malformed CONNECT", ending::orderly);
      return;
    }
    std::string token = auth->token.value_or(s->cookie_token);
    s->nsp = nsp_state::connecting;
    asio::co_spawn(io_, run_connect(s, std::move(token), std::move(auth->organization_id)),
                   log_failure("socket.io CONNECT (sid " + s->sid + ")"));
    return;
  }
  if (s->nsp != nsp_state::connected) {
    close(*s, "packet before CONNECT", ending::orderly);
    return;
  }
  if (type == '1') {  // DISCONNECT: the session stays, without a namespace connection
    leave_namespace(*s);
    expect_connect(*s);
    return;
  }
  if (type == '2') {  // EVENT, maybe asking for an ack
    auto event = parse_event(rest);
    if (!event) {
      close(*s, "malformed EVENT", ending::orderly);
      return;
    }
    if (!event->ack.empty()) send(*s, "43" + std::string(event->ack) + "[]");
    return;
  }
  if (type == '3') return;  // ACK of something we never asked: ignore
  close(*s, "unknown Socket.IO packet", ending::orderly);
}

asio::awaitable<void> socketio_server::run_connect(std::shared_ptr<session> s, std::string token, std::string org) {
  std::shared_ptr<const model::principal> who;
  // A revocation or membership change while the database was read may not be
  // in what it returned: read again (the service caches nothing read across one).
  for (int attempt = 0;; ++attempt) {
    const auto revocations = revocations_;
    who = nullptr;
    std::exception_ptr failure;
    try {
      if (!token.empty()) who = co_await accounts_.authenticate(token);
    } catch (...) {
      failure = std::current_exception();
    }
    if (s->closed) co_return;
    if (failure) {
      // The database could not say (unavailable, busy): no answer would leave
      // the client waiting for ever; a closed session makes it reconnect.
      log::warn("socket.io CONNECT could not authenticate", {{"sid", s->sid}, {"error", describe(failure)}});
      close(*s, "authentication failed for a moment", ending::abrupt);
      co_return;
    }
    if (revocations == revocations_) break;
    if (attempt == 2) {
      who = nullptr;  // still changing: refuse; the client may try again
      break;
    }
  }
  const model::membership* m = who ? domain::listening_membership(*who, org) : nullptr;
  if (!who || !m) {
    s->nsp = nsp_state::none;
    send(*s, "44" + json::serialize(json::object{{"message", "unauthorized"}}));
    co_return;
  }
  s->nsp = nsp_state::connected;
  s->credential = who->api_key ? credential_kind::api_key : credential_kind::login_session;
  s->credential_id = who->api_key ? who->api_key->id : who->session_id;
  s->user_id = who->user.id;
  s->org_id = m->org.id;
  s->role = m->role;
  s->expires_at = who->expires_at;
  rooms_[s->org_id].insert_or_assign(s->serial, s->weak_from_this());
  send(*s, "40" + json::serialize(json::object{{"sid", ids::random_id(12)}}));
}

asio::awaitable<http::response> socketio_server::receive_polling(const std::shared_ptr<session>& s,
                                                                 std::string_view body) {
  if (s->post_in_flight) {  // at most one POST at a time (Node: "data request overlap")
    close(*s, "overlapping POST");
    co_return eio_error(3, "Bad request");
  }
  s->post_in_flight = true;
  std::size_t packets = 0, bytes = 0;
  while (!body.empty() && !s->closed) {
    if (packets >= options_.batch_packets || bytes >= options_.batch_bytes) {
      // Let the loop run: a body of many small packets must not hold it.
      packets = bytes = 0;
      ++batch_yields_;
      co_await asio::post(io_, asio::use_awaitable);
      if (s->closed) break;
    }
    auto packet = next_payload_packet(body);
    ++packets;
    bytes += packet.size() + 1;
    if (!on_packet(s, packet)) {
      s->post_in_flight = false;
      close(*s, "malformed packet");
      co_return eio_error(3, "Bad request");
    }
  }
  s->post_in_flight = false;
  co_return text("ok");
}

asio::awaitable<http::response> socketio_server::handle_polling(http::context& ctx) {
  if (ctx.query("EIO") != "4") co_return eio_error(5, "Unsupported protocol version");
  if (ctx.query("transport") != "polling") co_return eio_error(0, "Transport unknown");
  const std::string address = http::client_address(ctx, options_.trusted_proxies);
  auto sid = ctx.query("sid");
  if (!sid) {
    if (ctx.req.method() != http::verb::get) co_return eio_error(2, "Bad handshake method");
    auto s = new_session(address);
    if (!s) co_return too_many_sessions();
    s->polling = std::make_unique<polling_state>(io_);
    take_cookie(*s, ctx);
    sessions_.emplace(s->sid, s);
    heartbeat_.start(*s);
    expect_connect(*s);
    co_return text(open_packet(s->sid, true, options_));
  }
  auto s = find_session(*sid, address);
  if (!s && ctx.req.method() == http::verb::get) {
    if (auto closed = find_closed_poll(*sid, address)) co_return last_poll(*closed, false);
  }
  if (!s) co_return eio_error(1, "Session ID unknown");
  if (s->phase == ws_phase::open) co_return eio_error(3, "Bad request");
  if (ctx.req.method() == http::verb::post) {
    std::string_view body = ctx.req.body();
    co_return co_await receive_polling(s, body);
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
  if (s->closed) co_return last_poll(*s, true);
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
  const std::string address = http::client_address(ctx, options_.trusted_proxies);
  std::shared_ptr<session> s;
  bool upgrade = false;
  if (auto sid = ctx.query("sid")) {
    s = find_session(*sid, address);
    if (!s) co_return eio_error(1, "Session ID unknown");
    if (s->phase != ws_phase::none) {
      // One WebSocket per session: another one (the session has upgraded,
      // or is upgrading) is accepted and closed at once, as Node does.
      http::response res;
      res.takeover = [](beast::tcp_stream stream, http::request req) {
        return run_refused_websocket(std::move(stream), std::move(req));
      };
      co_return res;
    }
    upgrade = true;
  } else {
    s = new_session(address);
    if (!s) co_return too_many_sessions();
    take_cookie(*s, ctx);
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
    expect_connect(*s);
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
