#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <sys/socket.h>
#include <stdexcept>

namespace reel::test {

namespace asio = boost::asio;
namespace beast = boost::beast;

connection::connection(unsigned short port, std::chrono::milliseconds timeout) : socket_(io_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  set_timeout(timeout);
}

void connection::set_timeout(std::chrono::milliseconds t) {
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
  beast::http::read(socket_, buffer_, parser);
  return parser.release();
}

std::string connection::read_until_closed() {
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  char chunk[16384];
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
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
  connection c(port);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.write(req);
  return c.read_response(method == "HEAD");
}

}  // namespace reel::test
