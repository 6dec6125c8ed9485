// The HTTP/1.1 server: accepts connections on the loop thread, reads
// requests (keep-alive, pipelining) with deadlines and size limits, runs
// them through the app's handler chain and writes the responses; shuts down
// gracefully. Loop thread only.
#pragma once

#include "core/ip_network.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace reel::http {

struct server_options {
  std::chrono::milliseconds headers_timeout{10'000};
  std::chrono::milliseconds keepalive_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{10'000};
  // Time allowed for reading a request body and for writing a response.
  std::chrono::milliseconds body_timeout{60'000};
  std::uint64_t default_body_limit = 1 << 20;
  std::uint32_t header_limit = 16 * 1024;
  // Open HTTP connections one client address may hold (0: no limit); more
  // are answered 429 and closed at once. Peers in `unlimited_peers` (the
  // trusted proxies, which carry many clients) are not limited here.
  std::size_t max_connections_per_address = 0;
  std::vector<ip_network> unlimited_peers;
};

class server {
 public:
  // `routes` resolves requests; `chain` is the composed middleware chain
  // ending in dispatch_route(). Both must outlive the server.
  server(boost::asio::io_context& io, const router& routes, const handler& chain, server_options options);
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens. Throws boost::system::system_error. Returns the bound
  // endpoint (with the chosen port when `port` is 0).
  boost::asio::ip::tcp::endpoint listen(const std::string& host, std::uint16_t port);

  // Starts accepting connections.
  void start();

  // Stops accepting, closes idle connections, lets requests in flight finish
  // within shutdown_timeout, then closes what is left. `done` runs on the loop
  // once every connection has ended.
  void shutdown(std::function<void()> done);

  std::size_t open_connections() const noexcept { return connections_.size(); }

 private:
  struct connection;
  class connection_registration;

  boost::asio::awaitable<void> run_acceptor();
  boost::asio::awaitable<void> run_session(boost::asio::ip::tcp::socket socket);
  void connection_ended(connection* c);

  boost::asio::io_context& io_;
  const router& routes_;
  const handler& chain_;
  server_options options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer shutdown_timer_;
  std::unordered_set<connection*> connections_;
  std::unordered_map<std::string, std::size_t> per_address_;  // open connections by peer address
  std::function<void()> on_drained_;
  bool stopping_ = false;
};

}  // namespace reel::http
