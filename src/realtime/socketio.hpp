// A Socket.IO v5 server over Engine.IO v4 (docs/PROTOCOLS.md A and B):
// HTTP long-polling and WebSocket transports, the upgrade from polling,
// server pings, and one room per organization fed by the event hub. The
// stock socket.io-client connects to it unmodified. Loop thread only.
//
// Built to hold many idle connections: a WebSocket session waits for its
// peer through a callback-driven websocket_connection (no coroutine), all
// sessions share one heartbeat timer and one read buffer, and a session keeps
// no buffer while idle.
//
// Tenancy and abuse: a session holds at most one namespace connection (a
// second CONNECT closes it, as Node's server does), and is in its
// organization's room exactly while that connection lasts; rooms hold weak
// handles, never raw pointers. Revoking a credential or removing a member
// disconnects their sockets at once, and a login session that expires is
// disconnected at its next heartbeat. A session is bound to the client
// address that opened it; each address may hold a limited number of
// sessions; a session that does not CONNECT in time is closed. A polling
// POST is handled in bounded batches so that the loop never waits long.
#pragma once

#include "core/events.hpp"
#include "core/ip_network.hpp"
#include "domain/accounts.hpp"
#include "http/router.hpp"
#include "realtime/heartbeat.hpp"
#include "realtime/websocket_connection.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reel::realtime {

struct socketio_options {
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  std::size_t max_payload = 1'000'000;
  // A client that lets this much queue up unread is dropped.
  std::size_t max_queued_bytes = 1 << 20;
  // A WebSocket client that takes none of its pending output for this long is dropped.
  std::chrono::milliseconds write_timeout{30'000};
  // A session without a namespace connection this long after it opened (or
  // after it left its namespace) is closed (Node: connectTimeout, 45 s).
  std::chrono::milliseconds connect_timeout{45'000};
  // Engine.IO sessions one client address may hold open at once; 0 = no limit.
  std::size_t max_sessions_per_address = 64;
  // Proxies whose X-Forwarded-For names the client (http::client_address).
  std::vector<ip_network> trusted_proxies;
  // Besides this site, the origins whose pages may use the session cookie here (REEL_CORS_ORIGINS).
  std::vector<std::string> trusted_origins;
  // A polling POST's packets are handled this many at a time (and at most
  // batch_bytes of them); the loop gets a turn between batches.
  std::size_t batch_packets = 256;
  std::size_t batch_bytes = 64 * 1024;
};

// What authenticated a namespace connection; revoking it ends the connection.
enum class credential_kind : std::uint8_t {
  login_session,  // a login's token or cookie (model::principal::session_id)
  api_key,        // an organization's API key (model::principal::api_key->id)
};

class socketio_server {
 public:
  socketio_server(boost::asio::io_context& io, domain::accounts& accounts, event_hub& hub,
                  socketio_options options = {});
  ~socketio_server();
  socketio_server(const socketio_server&) = delete;
  socketio_server& operator=(const socketio_server&) = delete;

  // GET and POST /socket.io/ (polling, and the WebSocket upgrade).
  void add_routes(http::router& r);

  // Closes every session (shutdown).
  void stop();
  // The login session `session_id` was revoked: disconnect its sockets.
  void session_revoked(const std::string& session_id);
  // A credential was revoked: its namespace connections get Socket.IO `41`
  // (the client does not reconnect by itself) and their sessions close; one
  // being authenticated is checked again.
  void credential_revoked(credential_kind kind, const std::string& id);
  // `user_id`'s membership of `org_id` changed: removed (nullopt), their
  // connections to that organization are disconnected at once; otherwise
  // they carry the new role.
  void membership_changed(const std::string& org_id, const std::string& user_id, std::optional<model::role> role);

  std::size_t open_sessions() const noexcept { return sessions_.size(); }
  // Sessions counted against `address` now (tests, metrics).
  std::size_t sessions_of(const std::string& address) const;
  // Namespace connections in `org_id`'s room now (tests).
  std::size_t room_size(const std::string& org_id) const;
  // How often a polling POST has let the loop run between batches (tests, metrics).
  std::uint64_t batch_yields() const noexcept { return batch_yields_; }

  struct session;
  struct address_counts;

 private:
  struct polling_state;
  struct connect_deadline {
    std::chrono::steady_clock::time_point due;
    std::weak_ptr<session> s;
  };

  boost::asio::awaitable<http::response> handle_polling(http::context& ctx);
  boost::asio::awaitable<http::response> handle_websocket(http::context& ctx);
  // Answers the WebSocket handshake, then hands the socket to a
  // websocket_connection and ends.
  boost::asio::awaitable<void> run_handshake(std::shared_ptr<session> s, boost::beast::tcp_stream stream,
                                             http::request req, bool upgrade);
  // The packets of a polling POST, in bounded batches.
  boost::asio::awaitable<http::response> receive_polling(const std::shared_ptr<session>& s, std::string_view body);
  void on_websocket_message(session& s, std::string_view packet);
  void on_websocket_end(session& s, std::string_view why);
  // The WebSocket of a polling session did not complete its upgrade: the
  // session goes on polling.
  void abandon_upgrade(session& s);
  // Handles one Engine.IO packet from the client; false = protocol error.
  bool on_packet(const std::shared_ptr<session>& s, std::string_view packet);
  // Handles one Socket.IO packet (an Engine.IO message).
  void on_message(const std::shared_ptr<session>& s, std::string_view payload);
  // Authenticates a CONNECT and joins the session to its organization's room.
  boost::asio::awaitable<void> run_connect(std::shared_ptr<session> s, std::string token, std::string org);
  void send(session& s, std::string_view packet);
  // Keeps the request's session cookie for the CONNECT, unless the request came from another site.
  void take_cookie(session& s, const http::context& ctx) const;
  // How the server ends a session, as Node's does: `abrupt` for Engine.IO's
  // own failures (a ping timeout, a malformed or overlapping request, a slow
  // consumer, a shutdown), where only a poll waiting at that moment hears of
  // it (`1`); `orderly` for what Socket.IO decides (no CONNECT in time, a
  // disconnect, a bad Socket.IO packet), where a polling session then waits
  // a moment for its next poll to carry what was queued and the close.
  enum class ending : std::uint8_t { abrupt, orderly };
  void close(session& s, std::string_view why, ending how = ending::abrupt);
  // Ends the session's namespace connection: out of its room, then `41`,
  // then the session closes.
  void disconnect(session& s, std::string_view why);
  void leave_namespace(session& s);
  void deliver(const event& e);
  // The session must CONNECT within connect_timeout from now.
  void expect_connect(session& s);
  void arm_connect_timer();
  void on_heartbeat_ping(session& s);
  // A new session for `address`, or null when the address holds its limit.
  std::shared_ptr<session> new_session(const std::string& address);
  // The session `sid` if it exists and was opened from `address`.
  std::shared_ptr<session> find_session(const std::string& sid, const std::string& address) const;
  // The polling session `sid`, closed by the server, waiting for its last poll.
  std::shared_ptr<session> find_closed_poll(const std::string& sid, const std::string& address) const;
  // The answer to the poll that tells the client its session closed
  // (`waited`: the poll was waiting when it did); forgets the session unless
  // packets queued before the close go first.
  http::response last_poll(session& s, bool waited);
  // Drops a closed session that was waiting for its last poll.
  void forget(session& s);
  // A request with a method Engine.IO does not use.
  http::response refuse_method(const http::context& ctx) const;

  boost::asio::io_context& io_;
  domain::accounts& accounts_;
  event_hub& hub_;
  socketio_options options_;
  std::size_t subscription_ = 0;
  std::vector<char> read_buffer_;  // every WebSocket reads into it (loop thread)
  websocket_connection::settings websocket_settings_;
  // By Engine.IO sid; the key views the session's own sid.
  std::unordered_map<std::string_view, std::shared_ptr<session>> sessions_;
  // Polling sessions the server closed, until their client polls once more
  // and hears of it (or a few seconds pass); not counted as open.
  std::unordered_map<std::string_view, std::shared_ptr<session>> closed_polls_;
  bool stopped_ = false;
  // Namespace connections by organization: session serial → session. A
  // session is in at most one room (its org_id's) exactly while connected.
  std::unordered_map<std::string, std::unordered_map<std::uint64_t, std::weak_ptr<session>>> rooms_;
  // Sessions per client address; sessions hold a share and give their slot back when they go.
  std::shared_ptr<address_counts> per_address_;
  std::uint64_t next_serial_ = 0;
  // Bumped by every revocation and membership change: a CONNECT whose
  // authentication overlapped one authenticates again.
  std::uint64_t revocations_ = 0;
  std::uint64_t batch_yields_ = 0;
  std::deque<connect_deadline> connect_deadlines_;  // in deadline order (one timeout for all)
  boost::asio::steady_timer connect_timer_;
  bool connect_timer_armed_ = false;
  heartbeat heartbeat_;
};

}  // namespace reel::realtime
