#include "http/server.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/accept_backoff.hpp"
#include "http/request_head.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace reel::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct server::connection {
  beast::tcp_stream* stream = nullptr;
  bool busy = false;
};

server::server(asio::io_context& io, const router& routes, const handler& chain, server_options options)
    : io_(io), routes_(routes), chain_(chain), options_(options), acceptor_(io), shutdown_timer_(io) {}

tcp::endpoint server::listen(const std::string& host, std::uint16_t port) {
  tcp::resolver resolver(io_);
  // Resolution of a literal address or "localhost" does not block on DNS.
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service);
  tcp::endpoint ep = results.begin()->endpoint();
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void server::start() { asio::co_spawn(io_, run_acceptor(), log_failure("acceptor")); }

namespace {

// One address holds too many connections: a short answer, written without
// waiting (it fits an empty socket buffer), and the connection is closed.
void refuse_busy_peer(tcp::socket& socket) {
  static const std::string k_busy = [] {
    std::string body =
        R"({"error":{"code":"too_many_requests","message":"Too many connections from this address; try again later."}})";
    return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
           "Connection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  ::send(socket.native_handle(), k_busy.data(), k_busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace

asio::awaitable<void> server::run_acceptor() {
  asio::steady_timer pause(io_);
  accept_backoff backoff;
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // Out of file descriptors (EMFILE, ENFILE) or a transient failure:
      // pause, longer each time, instead of spinning; the connections wait
      // in the backlog until descriptors return.
      auto step = backoff.failed(std::chrono::steady_clock::now());
      if (step.log)
        log::warn("accept failed; backing off",
                  {{"error", ec.message()}, {"wait_ms", step.wait.count()}, {"suppressed", step.suppressed}});
      pause.expires_after(step.wait);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (auto failures = backoff.succeeded()) log::info("accepting connections again", {{"failures", failures}});
    boost::system::error_code ignored;
    if (options_.max_connections_per_address > 0) {
      auto peer = socket.remote_endpoint(ignored).address();
      if (!ignored && !any_contains(options_.unlimited_peers, peer) &&
          per_address_[peer.to_string()] >= options_.max_connections_per_address) {
        refuse_busy_peer(socket);
        continue;
      }
    }
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(io_, run_session(std::move(socket)), log_failure("connection"));
  }
}

void server::connection_ended(connection* c) {
  connections_.erase(c);
  if (stopping_ && connections_.empty() && on_drained_) {
    shutdown_timer_.cancel();
    auto done = std::move(on_drained_);
    on_drained_ = nullptr;
    asio::post(io_, std::move(done));
  }
}

void server::shutdown(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  on_drained_ = std::move(done);
  for (auto* c : connections_)
    if (!c->busy && c->stream)
      c->stream->socket().shutdown(tcp::socket::shutdown_receive, ignored), c->stream->cancel();
  if (connections_.empty()) {
    auto fn = std::move(on_drained_);
    on_drained_ = nullptr;
    asio::post(io_, std::move(fn));
    return;
  }
  shutdown_timer_.expires_after(options_.shutdown_timeout);
  shutdown_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    if (!connections_.empty())
      log::warn("shutdown timeout: closing connections still busy", {{"count", connections_.size()}});
    for (auto* c : connections_) {
      boost::system::error_code ignored;
      if (c->stream) c->stream->socket().close(ignored);
    }
  });
}

namespace {

constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_100_continue(std::string_view v) {
  return v.size() == 12 && std::equal(v.begin(), v.end(), "100-continue",
                                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// The response as bytes on the wire, in one buffer: one write(2) per
// response instead of Beast's four buffers per header field.
std::string serialize(const response& res, bool with_body) {
  std::string out;
  out.reserve(512 + (with_body ? res.body().size() : 0));
  out += "HTTP/1.1 ";
  out += std::to_string(res.result_int());
  out += ' ';
  std::string_view reason = res.reason();
  out += reason.empty() ? std::string_view(beast_http::obsolete_reason(res.result())) : reason;
  out += "\r\n";
  for (const auto& f : res) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  if (with_body) out += res.body();
  return out;
}

// Closes our side, then reads and discards what the client still sends for a
// moment (bounded in time and bytes), so that it sees our response instead of
// a reset caused by unread data.
asio::awaitable<void> linger_close(beast::tcp_stream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16384> scratch;
  std::size_t total = 0;
  while (total < (std::size_t(8) << 20)) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
    if (rec) break;
    total += n;
  }
}

}  // namespace

namespace {

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == beast::error::timeout || ec == beast_http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::broken_pipe || ec == beast_http::error::partial_message;
}

// The body of a stream_body route, read on demand by the handler.
class streamed_body final : public body_reader {
 public:
  streamed_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                beast_http::request_parser<beast_http::empty_body>&& header, std::uint64_t limit,
                std::chrono::milliseconds timeout)
      : stream_(stream), buffer_(buffer), parser_(std::move(header)), timeout_(timeout) {
    parser_.body_limit(limit);
    expect_continue_ = is_100_continue(parser_.get()[field::expect]);
    // A body with a Content-Length (the route checked it against its limit)
    // is read straight from the socket into the caller's buffer: no copy
    // through the parser, and reads as large as the caller's buffer.
    if (auto n = parser_.content_length(); n && !parser_.chunked() && *n <= limit) direct_remaining_ = *n;
  }

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer out) override {
    if (aborted_) throw client_gone("the request was stopped");
    if (parser_.is_done() || out.size() == 0) co_return 0;
    if (expect_continue_) {
      expect_continue_ = false;
      stream_.expires_after(timeout_);
      auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(k_continue), use_tuple);
      if (wec) throw client_gone("connection lost before the body");
    }
    if (direct_remaining_) co_return co_await read_direct(out);
    for (;;) {
      parser_.get().body().data = out.data();
      parser_.get().body().size = out.size();
      stream_.expires_after(timeout_);
      auto [ec, n] = co_await beast_http::async_read_some(stream_, buffer_, parser_, use_tuple);
      std::size_t got = out.size() - parser_.get().body().size;
      if (ec == beast_http::error::need_buffer) ec = {};
      if (ec == beast_http::error::body_limit)
        throw error(errc::payload_too_large, "The upload is larger than this server accepts.");
      if (aborted_) throw client_gone("the request was stopped");
      if (ec && is_disconnect(ec)) throw client_gone("connection lost mid-body: " + ec.message());
      if (ec) throw error(errc::bad_request, "The request body is malformed (" + ec.message() + ").");
      if (got > 0 || parser_.is_done()) co_return got;
    }
  }

  bool done() const noexcept override { return direct_remaining_ ? *direct_remaining_ == 0 : parser_.is_done(); }
  std::optional<std::uint64_t> content_length() const noexcept override {
    auto n = parser_.content_length();
    return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
  }
  void abort() noexcept override {
    aborted_ = true;
    stream_.cancel();  // a read in progress ends with operation_aborted
  }

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  beast_http::request_parser<beast_http::buffer_body> parser_;
  std::chrono::milliseconds timeout_;
  bool expect_continue_ = false;
  bool aborted_ = false;
  // Bytes of a Content-Length body not yet read (set when read directly).
  std::optional<std::uint64_t> direct_remaining_;

  // The next bytes of a Content-Length body: first those read with the
  // head, then from the socket, never past the body's end (the next
  // request on the connection stays in `buffer_`).
  asio::awaitable<std::size_t> read_direct(asio::mutable_buffer out) {
    std::uint64_t& remaining = *direct_remaining_;
    if (remaining == 0) co_return 0;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, out.size()));
    if (buffer_.size() > 0) {
      std::size_t n = asio::buffer_copy(asio::buffer(out.data(), want), buffer_.data());
      buffer_.consume(n);
      remaining -= n;
      co_return n;
    }
    stream_.expires_after(timeout_);
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(out.data(), want), use_tuple);
    remaining -= n;
    if (aborted_) throw client_gone("the request was stopped");
    if (ec) throw client_gone("connection lost mid-body: " + ec.message());
    co_return n;
  }
};

bool set_cork(beast::tcp_stream& stream, bool on) {
  int v = on ? 1 : 0;
  return ::setsockopt(stream.socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v) == 0;
}

// Sends `length` bytes of `fd` from `offset` with sendfile(2): zero-copy,
// and when the client reads slowly we wait for the socket instead of
// buffering. Returns false when the client is gone or stalled past `timeout`.
asio::awaitable<bool> send_file_range(beast::tcp_stream& stream, int fd, std::uint64_t offset, std::uint64_t length,
                                      std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto& sock = stream.socket();
  boost::system::error_code ec;
  sock.native_non_blocking(true, ec);
  if (ec) co_return false;
  asio::steady_timer timer(sock.get_executor());
  off_t off = static_cast<off_t>(offset);
  std::uint64_t remaining = length, since_yield = 0;
  while (remaining > 0) {
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off, std::min<std::uint64_t>(remaining, 1 << 20));
    if (n > 0) {
      remaining -= static_cast<std::uint64_t>(n);
      since_yield += static_cast<std::uint64_t>(n);
      // A fast reader must not keep the loop from everyone else.
      if (since_yield >= (std::uint64_t(4) << 20)) {
        since_yield = 0;
        co_await asio::post(sock.get_executor(), asio::use_awaitable);
      }
      continue;
    }
    if (n == 0) co_return false;  // the file shrank under us
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return false;
    since_yield = 0;
    timer.expires_after(timeout);
    auto done = co_await (sock.async_wait(tcp::socket::wait_write, use_tuple) || timer.async_wait(use_tuple));
    if (done.index() == 1) co_return false;  // stalled
    if (std::get<0>(std::get<0>(done))) co_return false;
  }
  co_return true;
}

using whole_body_parser = beast_http::request_parser<beast_http::string_body>;

// Reads the rest of a body that the handler gets whole, within `limit`,
// answering "Expect: 100-continue" first; each step has `timeout`. A body
// over the limit (413) or malformed (400) becomes ctx.rejection. Returns
// false when the client is gone and nothing can be answered. Called only
// when some body remains (no coroutine frame for a request without one).
asio::awaitable<bool> read_whole_body(beast::tcp_stream& stream, beast::flat_buffer& buffer, whole_body_parser& parser,
                                      std::uint64_t limit, std::chrono::milliseconds timeout, context& ctx) {
  parser.body_limit(limit);
  if (is_100_continue(parser.get()[field::expect])) {
    stream.expires_after(timeout);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(k_continue), use_tuple);
    if (wec) co_return false;
  }
  stream.expires_after(timeout);
  auto [ec, n] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
  if (ec == beast_http::error::body_limit) {
    ctx.rejection.emplace(errc::payload_too_large, body_too_large(limit));
  } else if (is_disconnect(ec)) {
    co_return false;
  } else if (ec) {
    ctx.rejection.emplace(errc::bad_request, "The request body is malformed (" + ec.message() + ").");
  }
  co_return true;
}

// Whether the connection carries another request after this one. Not after
// a rejection, nor after a streamed body the handler did not finish reading:
// the stream position is unknown. Nor when the client or a shutdown says so.
bool may_keep_alive(const context& ctx, const std::optional<streamed_body>& streamed, bool stopping) {
  return !ctx.rejection && (!streamed || streamed->done()) && ctx.req.keep_alive() && !stopping;
}

// Writes a response whose body comes from a file: the head, then each part's
// own head and its range of the file, then the tail. The socket is corked
// meanwhile so that the head and the first file bytes leave in full segments
// (nginx's tcp_nopush). Each write has `timeout` (the stream's deadline is
// already set for the head). Returns false when the client is gone or stalled.
asio::awaitable<bool> write_file_response(beast::tcp_stream& stream, const response& res,
                                          std::chrono::milliseconds timeout) {
  std::string head = serialize(res, false);
  const bool corked = set_cork(stream, true);
  auto [hec, hn] = co_await asio::async_write(stream, asio::buffer(head), use_tuple);
  if (hec) co_return false;
  const file_payload& file = *res.file;
  for (const auto& part : file.parts) {
    if (!part.head.empty()) {
      stream.expires_after(timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(part.head), use_tuple);
      if (ec) co_return false;
    }
    if (!co_await send_file_range(stream, file.file->fd(), part.offset, part.length, timeout)) co_return false;
  }
  if (!file.tail.empty()) {
    stream.expires_after(timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(file.tail), use_tuple);
    if (ec) co_return false;
  }
  if (corked) set_cork(stream, false);
  co_return true;
}

// Hands the connection to the protocol it upgraded to (a WebSocket): it
// lives on in a coroutine of its own, while the session, and its request
// buffers, ends, so that an idle WebSocket costs only itself.
void take_over_connection(asio::io_context& io, beast::tcp_stream&& stream, request&& req,
                          const decltype(response::takeover)& takeover) {
  asio::co_spawn(io, takeover(std::move(stream), std::move(req)), log_failure("taken-over connection"));
}

}  // namespace

// Counts a session in connections_ (which shutdown() walks) and in
// per_address_ (the per-address connection limit) for as long as it lives.
class server::connection_registration {
 public:
  connection_registration(server& s, connection& c, std::string peer) : s_(s), c_(c), peer_(std::move(peer)) {
    s_.connections_.insert(&c_);
    ++s_.per_address_[peer_];
  }
  ~connection_registration() {
    if (auto it = s_.per_address_.find(peer_); it != s_.per_address_.end() && --it->second == 0)
      s_.per_address_.erase(it);
    s_.connection_ended(&c_);
  }
  connection_registration(const connection_registration&) = delete;
  connection_registration& operator=(const connection_registration&) = delete;

 private:
  server& s_;
  connection& c_;
  std::string peer_;
};

// Serves the requests of one connection in turn (keep-alive, pipelining)
// until the client or the server ends it. A new connection has
// headers_timeout for its whole first head; an idle keep-alive connection
// keepalive_timeout for its first byte, then headers_timeout for the rest of
// the head. (On a timeout beast::tcp_stream closes the socket: a late client
// is simply disconnected, as nginx does with client_header_timeout.) Reading
// a body and writing a response have body_timeout for each step.
// The steps that do not suspend are plain functions: a request without a body
// that is answered from memory costs no coroutine frame beyond the session's
// and the operations' own; only a body read whole and a file body take one.
asio::awaitable<void> server::run_session(tcp::socket socket) {
  boost::system::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  beast::tcp_stream stream(std::move(socket));
  connection conn{&stream, false};
  connection_registration registration(*this, conn, ec ? std::string() : remote.address().to_string());
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    conn.busy = false;
    if (stopping_) co_return;
    if (buffer.size() == 0) {  // wait for the next request
      stream.expires_after(first ? options_.headers_timeout : options_.keepalive_timeout);
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (rec) co_return;  // closed, reset, idle timeout or shutdown
      buffer.commit(n);
    }
    if (!first) stream.expires_after(options_.headers_timeout);
    conn.busy = true;

    context ctx;
    ctx.remote = remote;
    head_parser header;
    header.header_limit(options_.header_limit);
    header.body_limit(boost::none);
    auto [hec, hn] = co_await beast_http::async_read_header(stream, buffer, header, use_tuple);
    ctx.started = std::chrono::steady_clock::now();
    if (is_disconnect(hec)) co_return;
    const body_plan plan = hec ? refuse_unreadable_head(hec, options_.header_limit, ctx)
                               : route_request(routes_, options_.default_body_limit, header, ctx);

    std::optional<streamed_body> streamed;
    if (plan.mode == body_mode::streamed) {
      streamed.emplace(stream, buffer, std::move(header), plan.limit, options_.body_timeout);
      ctx.body = &*streamed;
    } else if (plan.mode == body_mode::whole) {
      whole_body_parser parser(std::move(header));
      if (!parser.is_done()) {  // some body remains on the socket
        if (!co_await read_whole_body(stream, buffer, parser, plan.limit, options_.body_timeout, ctx)) co_return;
      }
      if (!ctx.rejection) ctx.req = parser.release();
    }

    response res;
    try {
      res = co_await chain_(ctx);
    } catch (const client_gone& e) {
      log::info("client gone", {{"route", ctx.route}, {"reason", e.what()}});
      co_return;
    } catch (const std::exception& e) {
      log::error("handler chain failed", {{"error", e.what()}});
      res = error_response(errc::internal, "Something went wrong on our side.");
    }
    if (res.takeover && !ctx.rejection) {
      take_over_connection(io_, std::move(stream), std::move(ctx.req), res.takeover);
      co_return;
    }

    const bool keep = may_keep_alive(ctx, streamed, stopping_);
    res.keep_alive(keep);
    stream.expires_after(options_.body_timeout);
    // HEAD: the GET headers (Content-Length included), no body.
    const bool with_body = ctx.req.method() != verb::head;
    if (with_body && res.file) {
      if (!co_await write_file_response(stream, res, options_.body_timeout)) co_return;
    } else {
      std::string wire = serialize(res, with_body);  // one buffer, one write(2)
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire), use_tuple);
      if (wec) co_return;
    }
    if (!keep) break;
  }
  co_await linger_close(stream);
}

}  // namespace reel::http
