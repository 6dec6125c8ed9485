#include "cli/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <openssl/ssl.h>

namespace reel::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

url url::parse(std::string_view text) {
  url u;
  if (text.starts_with("https://")) {
    u.tls = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    throw std::invalid_argument("the server URL must start with http:// or https://");
  }
  auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  u.base = slash == std::string_view::npos ? "" : std::string(text.substr(slash));
  while (!u.base.empty() && u.base.back() == '/') u.base.pop_back();
  auto colon = authority.rfind(':');
  bool bracketed = authority.starts_with('[');
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
    u.port = u.tls ? "443" : "80";
  }
  if (bracketed && u.host.size() >= 2) u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty() || u.port.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("the server URL has no usable host and port");
  return u;
}

std::string url::resolve_target(std::string_view target) const {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) {
      auto path = target.find('/', scheme.size());
      return path == std::string_view::npos ? "/" : std::string(target.substr(path));
    }
  }
  if (target.starts_with('/')) return std::string(target);
  return base + "/" + std::string(target);
}

struct http_client::connection {
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::optional<beast::tcp_stream> plain;
  std::optional<asio::ssl::stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return secure ? secure->next_layer() : *plain; }

  template <class F>
  auto with_stream(F&& f) {
    return secure ? f(*secure) : f(*plain);
  }
};

http_client::http_client(url server, std::chrono::seconds timeout) : server_(std::move(server)), timeout_(timeout) {}
http_client::~http_client() = default;

response http_client::send(std::string_view method, std::string_view target,
                           const std::map<std::string, std::string>& headers, std::string_view body) {
  return send(method, target, headers, body.size(),
              [body](const std::function<void(std::string_view)>& out) { out(body); });
}

response http_client::send(std::string_view method, std::string_view target,
                           const std::map<std::string, std::string>& headers, std::uint64_t body_size,
                           const body_writer& write_body) {
  try {
    if (!conn_) {
      auto c = std::make_unique<connection>();
      tcp::resolver resolver(c->io);
      auto endpoints = resolver.resolve(server_.host, server_.port);
      if (server_.tls) {
        c->tls.set_default_verify_paths();
        c->secure.emplace(c->io, c->tls);
        c->secure->set_verify_mode(asio::ssl::verify_peer);
        c->secure->set_verify_callback(asio::ssl::host_name_verification(server_.host));
        if (!SSL_set_tlsext_host_name(c->secure->native_handle(), server_.host.c_str()))
          throw network_error("TLS set-up failed");
      } else {
        c->plain.emplace(c->io);
      }
      c->lowest().expires_after(timeout_);
      c->lowest().connect(endpoints);
      if (c->secure) c->secure->handshake(asio::ssl::stream_base::client);
      conn_ = std::move(c);
    }
    connection& c = *conn_;
    std::string head = std::string(method) + " " + server_.resolve_target(target) +
                       " HTTP/1.1\r\nHost: " + server_.host + ":" + server_.port + "\r\nUser-Agent: reel-cli\r\n";
    for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
    if (body_size > 0 || method == "POST" || method == "PATCH" || method == "PUT")
      head += "Content-Length: " + std::to_string(body_size) + "\r\n";
    head += "\r\n";
    auto write_all = [&](std::string_view bytes) {
      c.lowest().expires_after(timeout_);
      c.with_stream([&](auto& s) { return asio::write(s, asio::buffer(bytes.data(), bytes.size())); });
    };
    write_all(head);
    if (write_body) write_body(write_all);

    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    if (method == "HEAD") parser.skip(true);
    c.lowest().expires_after(timeout_);
    c.with_stream([&](auto& s) { return http::read(s, c.buffer, parser); });
    response res = parser.release();
    if (!res.keep_alive()) conn_.reset();
    return res;
  } catch (const boost::system::system_error& e) {
    conn_.reset();
    throw network_error(e.code().message());
  }
}

std::string error_message(const response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body(), ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e && e->is_object())
      if (const auto* m = e->as_object().if_contains("message"); m && m->is_string())
        return std::string(m->as_string());
  }
  return std::to_string(r.result_int()) + " " + std::string(r.reason());
}

}  // namespace reel::cli
