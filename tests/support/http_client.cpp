#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>

namespace reel::test {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// A SyncReadStream over the socket whose every read waits at most `timeout`
// for bytes. (SO_RCVTIMEO does not do it: after the EAGAIN it causes, Asio's
// blocking read polls again with no timeout.)
struct timed_reads {
  asio::ip::tcp::socket& socket;
  std::chrono::milliseconds timeout;

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    pollfd p{socket.native_handle(), POLLIN, 0};
    int ready;
    do ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      ec = asio::error::timed_out;
      return 0;
    }
    return socket.read_some(buffers, ec);
  }
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
};

}  // namespace

connection::connection(unsigned short port, std::chrono::milliseconds timeout) : socket_(io_), timeout_(timeout) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  set_timeout(timeout);
}

void connection::set_timeout(std::chrono::milliseconds t) {
  timeout_ = t;
  // For a test's own ::recv on native_handle(): a plain blocking recv honours it.
  timeval tv{};
  tv.tv_sec = t.count() / 1000;
  tv.tv_usec = (t.count() % 1000) * 1000;
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void connection::write(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

http_response connection::read_response(bool head) {
  beast::http::response_parser<beast::http::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(head);
  timed_reads stream{socket_, timeout_};
  beast::http::read(stream, buffer_, parser);
  return parser.release();
}

std::string connection::read_until_closed() {
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char chunk[16384];
  timed_reads stream{socket_, timeout_};
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = stream.read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return out;
    if (ec) throw std::runtime_error("read_until_closed: " + ec.message());
  }
}

bool connection::closed_by_server() {
  try {
    read_until_closed();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

http_response request(unsigned short port, const std::string& method, const std::string& target,
                      const std::string& body, const std::map<std::string, std::string>& headers) {
  connection c(port, std::chrono::seconds(60));  // long enough for a loaded sanitizer build; a hang fails by name
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.write(req);
  try {
    return c.read_response(method == "HEAD");
  } catch (const std::exception& e) {
    throw std::runtime_error(method + " " + target + ": no answer read (" + e.what() + ")");
  }
}

}  // namespace reel::test
