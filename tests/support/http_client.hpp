// A small blocking HTTP/1.1 client over a real TCP socket, for integration
// tests: raw bytes in, parsed responses out; every read waits a bounded time.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace reel::test {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;

class connection {
 public:
  explicit connection(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void write(const std::string& bytes);
  // Reads one response. `head` = the request was HEAD (no body follows).
  http_response read_response(bool head = false);
  // Reads until the server closes; returns what arrived. Throws on timeout.
  std::string read_until_closed();
  // True when the server closed the connection (EOF or reset) within the timeout.
  bool closed_by_server();
  void set_timeout(std::chrono::milliseconds t);
  int native_handle() { return socket_.native_handle(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::chrono::milliseconds timeout_;  // the longest wait for bytes, per read
  boost::beast::flat_buffer buffer_;
};

// One request on a fresh connection. A missing answer (60 s without bytes) throws, naming the request.
http_response request(unsigned short port, const std::string& method, const std::string& target,
                      const std::string& body = "", const std::map<std::string, std::string>& headers = {});

}  // namespace reel::test
