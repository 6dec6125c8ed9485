#include "http/server.hpp"

#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace reel::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

void server::start() {
  asio::co_spawn(io_, run_acceptor(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("acceptor failed", {{"error", ex.what()}});
    }
  });
}

asio::awaitable<void> server::run_acceptor() {
  asio::steady_timer backoff(io_);
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      // Out of file descriptors or a transient failure: pause instead of spinning.
      log::warn("accept failed", {{"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(io_, run_session(std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("connection failed", {{"error", ex.what()}});
      }
    });
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
    if (!c->busy) c->stream->socket().shutdown(tcp::socket::shutdown_receive, ignored), c->stream->cancel();
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
      c->stream->socket().close(ignored);
    }
  });
}

namespace {

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

asio::awaitable<void> server::run_session(tcp::socket socket) {
  boost::system::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  beast::tcp_stream stream(std::move(socket));
  connection conn{&stream, false};
  connections_.insert(&conn);
  struct on_exit {
    server* s;
    connection* c;
    ~on_exit() { s->connection_ended(c); }
  } guard{this, &conn};

  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    conn.busy = false;
    if (stopping_) co_return;
    // Wait for the next request. A new connection has headers_timeout for
    // its whole first head; an idle keep-alive connection keepalive_timeout
    // for its first byte, then headers_timeout for the rest of the head.
    if (buffer.size() == 0) {
      stream.expires_after(first ? options_.headers_timeout : options_.keepalive_timeout);
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (rec) co_return;  // closed, reset, idle timeout or shutdown
      // (On a timeout beast::tcp_stream has closed the socket: a late client
      // is simply disconnected, as nginx does with client_header_timeout.)
      buffer.commit(n);
      if (!first) stream.expires_after(options_.headers_timeout);
    } else if (!first) {
      stream.expires_after(options_.headers_timeout);
    }
    first = false;
    conn.busy = true;

    context ctx;
    ctx.remote = remote;
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(options_.header_limit);
    parser.body_limit(boost::none);

    auto [hec, hn] = co_await beast_http::async_read_header(stream, buffer, parser, use_tuple);
    ctx.started = std::chrono::steady_clock::now();
    std::uint64_t limit = options_.default_body_limit;
    if (!hec) {
      ctx.req.base() = parser.get().base();
      auto m = routes_.find(ctx.req.method(), ctx.path(), ctx.params);
      if (m.outcome == router::match::kind::found) {
        ctx.matched = m.matched;
        ctx.route = m.matched->pattern;
        if (m.matched->options.body_limit) limit = m.matched->options.body_limit;
      } else if (m.outcome == router::match::kind::method_not_allowed) {
        ctx.allow = m.allow;
      } else if (ctx.req.method() == verb::options) {
        ctx.allow = routes_.allowed_methods(ctx.path());
      }
      if (parser.content_length() && *parser.content_length() > limit)
        ctx.rejection.emplace(errc::payload_too_large, "The request body is larger than this endpoint accepts (" +
                                                           std::to_string(limit) + " bytes).");
    } else if (hec == beast_http::error::header_limit) {
      ctx.rejection.emplace(errc::request_header_fields_too_large,
                            "The request head is larger than " + std::to_string(options_.header_limit) + " bytes.");
    } else if (hec == beast::error::timeout || hec == beast_http::error::end_of_stream || hec == asio::error::eof ||
               hec == asio::error::connection_reset || hec == asio::error::operation_aborted ||
               hec == beast_http::error::partial_message) {
      co_return;
    } else {
      ctx.rejection.emplace(errc::bad_request, "The request is not valid HTTP/1.1 (" + hec.message() + ").");
    }

    if (!ctx.rejection) {
      // The body, within the route's limit.
      if (!parser.is_done()) {
        parser.body_limit(limit);
        if (is_100_continue(parser.get()[field::expect])) {
          static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
          stream.expires_after(options_.body_timeout);
          auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(k_continue), use_tuple);
          if (wec) co_return;
        }
        stream.expires_after(options_.body_timeout);
        auto [bec, bn] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
        if (bec == beast_http::error::body_limit) {
          ctx.rejection.emplace(errc::payload_too_large, "The request body is larger than this endpoint accepts (" +
                                                             std::to_string(limit) + " bytes).");
        } else if (bec == beast::error::timeout || bec == beast_http::error::end_of_stream || bec == asio::error::eof ||
                   bec == asio::error::connection_reset || bec == asio::error::operation_aborted ||
                   bec == beast_http::error::partial_message) {
          co_return;
        } else if (bec) {
          ctx.rejection.emplace(errc::bad_request, "The request body is malformed (" + bec.message() + ").");
        }
      }
      if (!ctx.rejection) ctx.req = parser.release();
    }
    if (ctx.rejection && hec) ctx.req.method_string("-");

    response res;
    try {
      res = co_await chain_(ctx);
    } catch (const std::exception& e) {
      log::error("handler chain failed", {{"error", e.what()}});
      res = error_response(errc::internal, "Something went wrong on our side.");
    }

    // After a rejection the stream position is unknown: close.
    bool keep = !ctx.rejection && ctx.req.keep_alive() && !stopping_;
    res.keep_alive(keep);
    stream.expires_after(options_.body_timeout);
    // HEAD: the GET headers (Content-Length included), no body.
    std::string wire = serialize(res, ctx.req.method() != verb::head);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire), use_tuple);
    if (wec) co_return;
    if (!keep) {
      co_await linger_close(stream);
      co_return;
    }
  }
}

}  // namespace reel::http
