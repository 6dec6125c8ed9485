// A small blocking HTTP/1.1 client for the command-line tools: one
// keep-alive connection to one server (http:// or https:// with the
// system's CA store and host name checks), request bodies streamed by the
// caller, per-operation timeouts. Not for the server's loop: it blocks.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reel::cli {

using response = boost::beast::http::response<boost::beast::http::string_body>;

// "http://host:port/base" taken apart; throws std::invalid_argument.
struct url {
  bool tls = false;
  std::string host, port, base;  // base: path prefix without a trailing slash
  static url parse(std::string_view text);
  // `target` is absolute ("https://..."), or a path on this server.
  std::string resolve_target(std::string_view target) const;
};

// The server could not be reached or the connection broke: worth a retry.
class network_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class http_client {
 public:
  explicit http_client(url server, std::chrono::seconds timeout = std::chrono::seconds(60));
  ~http_client();

  // Sends a request. `body_size` bytes of body are produced by
  // `write_body(send)`, which calls `send(bytes)` as often as it likes.
  // Throws network_error when the exchange fails on the wire.
  using body_writer = std::function<void(const std::function<void(std::string_view)>& send)>;
  response send(std::string_view method, std::string_view target, const std::map<std::string, std::string>& headers,
                std::uint64_t body_size = 0, const body_writer& write_body = {});
  // A request whose body is `body`.
  response send(std::string_view method, std::string_view target, const std::map<std::string, std::string>& headers,
                std::string_view body);

  const url& server() const noexcept { return server_; }

 private:
  struct connection;
  url server_;
  std::chrono::seconds timeout_;
  std::unique_ptr<connection> conn_;
};

// The message of an API error body ({"error": {"message"}}), else the status line.
std::string error_message(const response& r);

}  // namespace reel::cli
