// A Socket.IO v5 server over Engine.IO v4 (docs/PROTOCOLS.md A and B):
// HTTP long-polling and WebSocket transports, the upgrade from polling,
// server pings, and one room per organization fed by the event hub. The
// stock socket.io-client connects to it unmodified. Loop thread only.
//
// Built to hold many idle connections: a WebSocket session waits for its
// peer through a callback-driven websocket_connection (no coroutine), all
// sessions share one heartbeat timer and one read buffer, and a session keeps
// no buffer while idle.
#pragma once

#include "auth/service.hpp"
#include "core/events.hpp"
#include "http/router.hpp"
#include "realtime/heartbeat.hpp"
#include "realtime/websocket_connection.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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
};

class socketio_server {
 public:
  socketio_server(boost::asio::io_context& io, auth::service& accounts, event_hub& hub, socketio_options options = {});
  ~socketio_server();
  socketio_server(const socketio_server&) = delete;
  socketio_server& operator=(const socketio_server&) = delete;

  // GET and POST /socket.io/ (polling, and the WebSocket upgrade).
  void add_routes(http::router& r);

  // Closes every session (shutdown).
  void stop();
  // The login session `session_id` was revoked: disconnect its sockets.
  void session_revoked(const std::string& session_id);

  std::size_t open_sessions() const noexcept { return sessions_.size(); }

  struct session;

 private:
  struct polling_state;

  boost::asio::awaitable<http::response> handle_polling(http::context& ctx);
  boost::asio::awaitable<http::response> handle_websocket(http::context& ctx);
  // Answers the WebSocket handshake, then hands the socket to a
  // websocket_connection and ends.
  boost::asio::awaitable<void> run_handshake(std::shared_ptr<session> s, boost::beast::tcp_stream stream,
                                             http::request req, bool upgrade);
  void on_websocket_message(session& s, std::string_view packet);
  void on_websocket_end(session& s, std::string_view why);
  // The WebSocket of a polling session did not complete its upgrade: the
  // session goes on polling.
  void abandon_upgrade(session& s);
  boost::asio::awaitable<void> on_message(std::shared_ptr<session> s, std::string payload);
  // Handles one Engine.IO packet from the client; false = protocol error.
  bool on_packet(const std::shared_ptr<session>& s, std::string_view packet);
  void send(session& s, std::string_view packet);
  void close(session& s, std::string_view why);
  void deliver(const event& e);

  boost::asio::io_context& io_;
  auth::service& accounts_;
  event_hub& hub_;
  socketio_options options_;
  std::size_t subscription_ = 0;
  std::vector<char> read_buffer_;  // every WebSocket reads into it (loop thread)
  websocket_connection::settings websocket_settings_;
  // By Engine.IO sid; the key views the session's own sid.
  std::unordered_map<std::string_view, std::shared_ptr<session>> sessions_;
  std::unordered_map<std::string, std::unordered_set<session*>> rooms_;  // by organization
  heartbeat heartbeat_;
};

}  // namespace reel::realtime
