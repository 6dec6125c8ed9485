// A Socket.IO v5 server over Engine.IO v4 (docs/PROTOCOLS.md A and B):
// HTTP long-polling and WebSocket transports, the upgrade from polling,
// server pings, and one room per organization fed by the event hub. The
// stock socket.io-client connects to it unmodified. Loop thread only.
#pragma once

#include "auth/service.hpp"
#include "core/events.hpp"
#include "http/router.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace reel::realtime {

struct socketio_options {
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  std::size_t max_payload = 1'000'000;
  // A client that lets this much queue up unread is dropped.
  std::size_t max_queued_bytes = 1 << 20;
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
  boost::asio::awaitable<http::response> handle_polling(http::context& ctx);
  boost::asio::awaitable<http::response> handle_websocket(http::context& ctx);
  boost::asio::awaitable<void> run_websocket(std::shared_ptr<session> s, boost::beast::tcp_stream stream,
                                             http::request req, bool upgrade);
  boost::asio::awaitable<void> run_pings(std::shared_ptr<session> s);
  void start_writer(const std::shared_ptr<session>& s, boost::asio::ip::tcp::socket& sock);
  boost::asio::awaitable<void> run_writer(std::shared_ptr<session> s, boost::asio::ip::tcp::socket& sock);
  boost::asio::awaitable<void> on_message(std::shared_ptr<session> s, std::string payload);
  // Handles one Engine.IO packet from the client; false = protocol error.
  bool on_packet(const std::shared_ptr<session>& s, std::string_view packet);
  void send(session& s, std::string packet);
  void close(session& s, std::string_view why);
  void deliver(const event& e);

  boost::asio::io_context& io_;
  auth::service& accounts_;
  event_hub& hub_;
  socketio_options options_;
  std::size_t subscription_ = 0;
  std::unordered_map<std::string, std::shared_ptr<session>> sessions_;   // by Engine.IO sid
  std::unordered_map<std::string, std::unordered_set<session*>> rooms_;  // by organization
};

}  // namespace reel::realtime
