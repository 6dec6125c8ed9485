// The request context that middleware and handlers share, and the response
// they produce, with helpers for API.md's JSON shapes.
#pragma once

#include "core/errors.hpp"
#include "model/principal.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reel::http {

namespace beast_http = boost::beast::http;
using verb = beast_http::verb;
using field = beast_http::field;
using status = beast_http::status;
using request = beast_http::request<beast_http::string_body>;

// An open file that a response streams from (closed with the last owner).
class open_file {
 public:
  explicit open_file(int fd) noexcept : fd_(fd) {}
  ~open_file();
  open_file(const open_file&) = delete;
  open_file& operator=(const open_file&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// A body sent from a file, zero-copy (sendfile) with backpressure: each part
// is `head` bytes (e.g. multipart headers) then `length` bytes of the file
// from `offset`; `tail` ends the body. The response's Content-Length must
// count all of it.
struct file_payload {
  std::shared_ptr<const open_file> file;
  struct part {
    std::string head;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::vector<part> parts;
  std::string tail;
};

// A response: Beast's message with a string body, optionally followed by a
// file payload instead of the string body.
class response : public beast_http::response<beast_http::string_body> {
 public:
  using base = beast_http::response<beast_http::string_body>;
  using base::base;
  response() = default;
  response(base&& b) : base(std::move(b)) {}
  std::optional<file_payload> file;
  // Set to take the connection over instead of answering (a WebSocket
  // upgrade): the server hands it the stream and the request, runs the
  // returned coroutine on its own and forgets the connection. The function
  // object dies before the coroutine runs: it must not be a coroutine itself
  // but return one that owns its state.
  std::function<boost::asio::awaitable<void>(boost::beast::tcp_stream, request)> takeover;
};

// The client went away (or stopped sending) while its request was read:
// nothing can be answered; the connection is closed.
class client_gone : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a request body incrementally, for routes that stream it (uploads).
// Loop thread only.
class body_reader {
 public:
  virtual ~body_reader() = default;
  // Reads up to `out.size()` bytes; returns 0 at the end of the body.
  // Throws error(payload_too_large) past the route's limit,
  // error(bad_request) for broken chunked framing, client_gone when the
  // connection fails or stalls past the body timeout.
  virtual boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer out) = 0;
  // True once the whole body has been read.
  virtual bool done() const noexcept = 0;
  // The declared length, when the request has a Content-Length.
  virtual std::optional<std::uint64_t> content_length() const noexcept = 0;
  // Stops the reading from elsewhere on the loop: a read in progress and every
  // later one throw client_gone, and the connection closes after the handler.
  virtual void abort() noexcept = 0;
};

// Values captured by `:name` and `*` segments of the matched route,
// percent-decoded.
class route_params {
 public:
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  // The value of `:name`; throws error(not_found) if the route has no such parameter.
  const std::string& at(std::string_view name) const;
  const std::string* find(std::string_view name) const noexcept;
  std::size_t size() const noexcept { return items_.size(); }
  void clear() noexcept { items_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Everything one request carries through the middleware chain. Lives in the
// connection's coroutine for the duration of the request; loop thread only.
struct route;

struct context {
  request req;
  route_params params;
  std::string request_id;
  // The matched route's pattern ("/api/videos/:id"), or "unmatched": the
  // label that logs and metrics use, never the raw path.
  std::string route = "unmatched";
  boost::asio::ip::tcp::endpoint remote;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Set by the server before the chain runs: the matched route (null when
  // none), the Allow list for 405/OPTIONS, and a rejection the server made
  // before routing (malformed request, oversized head or body, timeout).
  const struct route* matched = nullptr;
  std::string allow;
  std::optional<std::pair<errc, std::string>> rejection;
  // For routes with stream_body: the body, still on the socket.
  body_reader* body = nullptr;

  // Set by the authentication wrappers (src/api/guard.hpp): who is calling,
  // and the organization the request acts in with the caller's role there.
  std::shared_ptr<const model::principal> principal;
  std::optional<model::org_scope> org;

  // The request target's path (without the query), as sent.
  std::string_view path() const noexcept;
  // The query string's value for `key`, percent-decoded; nullopt if absent.
  std::optional<std::string> query(std::string_view key) const;
  // A header's value, or empty.
  std::string_view header(field f) const noexcept;
  std::string_view header(std::string_view name) const noexcept;

  // Cookies from the Cookie header, parsed on first use.
  const std::string* cookie(std::string_view name) const;

  // The body as JSON. Requires `Content-Type: application/json` (else
  // error(unsupported_media_type)); malformed JSON, invalid UTF-8 or deep
  // nesting → error(bad_request) saying what is wrong. Parsed once.
  const boost::json::value& json_body();

 private:
  mutable std::optional<std::vector<std::pair<std::string, std::string>>> cookies_;
  std::optional<boost::json::value> json_;
};

using handler = std::function<boost::asio::awaitable<response>(context&)>;

// A JSON response with the right headers; the body is serialized here.
response json_response(status s, const boost::json::value& body);
// A JSON response whose body is serialized already.
response json_text_response(status s, std::string body);
// A response of `content_type` with `body`.
response text_response(status s, std::string body, std::string_view content_type);
// API.md's error shape: {"error": {"code", "message"}}.
response error_response(errc code, std::string_view message);
// A response with no body (204, 304, ...).
response empty_response(status s);

}  // namespace reel::http
