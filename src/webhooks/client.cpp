#include "webhooks/client.hpp"
#include "core/async.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <stdexcept>

namespace reel::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;

namespace {

// An attempt that ended without an answer, with the words the log shows.
struct attempt_failure : std::runtime_error {
  attempt_failure(const std::string& what, bool refused_ = false) : std::runtime_error(what), refused(refused_) {}
  bool refused;
};

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// The resolved addresses of `u` this sender may connect to.
asio::awaitable<std::vector<tcp::endpoint>> resolve_allowed(const target_url& u, const client_options& o,
                                                            steady::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  asio::steady_timer timer(ex);
  timer.expires_at(std::min(deadline, steady::now() + o.connect_timeout));
  auto race = resolver.async_resolve(u.host, u.port, use_tuple) || timer.async_wait(use_tuple);
  auto resolved = co_await std::move(race);
  if (resolved.index() == 1)
    throw attempt_failure("could not resolve " + u.host + " within " + seconds_text(o.connect_timeout));
  auto [ec, results] = std::get<0>(std::move(resolved));
  if (ec) throw attempt_failure("could not resolve " + u.host + ": " + ec.message());
  std::vector<tcp::endpoint> allowed;
  std::string refused;
  for (const auto& r : results) {
    auto ep = r.endpoint();
    if (!o.allow_private) {
      if (auto why = private_address_reason(ep.address())) {
        if (refused.empty()) refused = ep.address().to_string() + ", " + *why;
        continue;
      }
    }
    allowed.push_back(ep);
  }
  if (allowed.empty())
    throw attempt_failure("refused: " + u.host + " resolves to " + refused +
                              "; webhooks are not sent to loopback, private, link-local or metadata addresses "
                              "unless REEL_WEBHOOK_ALLOW_PRIVATE=true",
                          true);
  co_return allowed;
}

std::string host_header(const target_url& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
  return default_port ? host : host + ":" + u.port;
}

// Writes the request and reads the answer's status and up to max_body bytes.
template <class Stream>
asio::awaitable<void> exchange(Stream& s, beast::tcp_stream& lowest, const target_url& u,
                               const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body,
                               const client_options& o, steady::time_point deadline, post_result& out) {
  http::request<http::string_body> req{http::verb::post, u.target, 11};
  req.set(http::field::host, host_header(u));
  req.set(http::field::user_agent, "reel-webhooks/1");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  lowest.expires_at(deadline);
  auto [wec, written] = co_await http::async_write(s, req, use_tuple);
  if (wec == beast::error::timeout)
    throw attempt_failure("timed out after " + seconds_text(o.total_timeout) + " sending the request");
  if (wec) throw attempt_failure("the connection failed while sending: " + wec.message());
  // The status is what counts; of the body, at most max_body bytes are
  // read (and the next buffer's worth at most: the buffer is bounded).
  beast::flat_buffer buffer(16 * 1024);
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  auto [hec, head] = co_await http::async_read_header(s, buffer, parser, use_tuple);
  if (hec == beast::error::timeout)
    throw attempt_failure("timed out after " + seconds_text(o.total_timeout) + " waiting for the response");
  if (hec) throw attempt_failure("no HTTP response: " + hec.message());
  out.status = parser.get().result_int();
  while (!parser.is_done() && parser.get().body().size() < o.max_body) {
    auto [bec, n] = co_await http::async_read_some(s, buffer, parser, use_tuple);
    if (bec) break;
  }
  out.body = parser.get().body().substr(0, o.max_body);
}

asio::awaitable<void> connect_and_post(asio::ssl::context& tls, const target_url& u,
                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                       const std::string& body, const client_options& o, steady::time_point deadline,
                                       post_result& out) {
  auto endpoints = co_await resolve_allowed(u, o, deadline);
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream plain(ex);
  plain.expires_at(std::min(deadline, steady::now() + o.connect_timeout));
  auto [cec, connected] = co_await plain.async_connect(endpoints, use_tuple);
  if (cec == beast::error::timeout)
    throw attempt_failure("could not connect to " + u.host + " within " + seconds_text(o.connect_timeout));
  if (cec) throw attempt_failure("could not connect to " + u.host + ": " + cec.message());
  if (!u.tls) {
    co_await exchange(plain, plain, u, headers, body, o, deadline, out);
    co_return;
  }
  asio::ssl::stream<beast::tcp_stream> secure(std::move(plain), tls);
  secure.set_verify_mode(asio::ssl::verify_peer);
  secure.set_verify_callback(asio::ssl::host_name_verification(u.host));
  boost::system::error_code not_ip;  // set for a host name, which gets SNI
  asio::ip::make_address(u.host, not_ip);
  if (not_ip && !SSL_set_tlsext_host_name(secure.native_handle(), u.host.c_str()))
    throw attempt_failure("TLS set-up failed");
  secure.next_layer().expires_at(deadline);
  auto [hec] = co_await secure.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec == beast::error::timeout)
    throw attempt_failure("timed out after " + seconds_text(o.total_timeout) + " in the TLS handshake");
  if (hec) throw attempt_failure("TLS handshake with " + u.host + " failed: " + hec.message());
  co_await exchange(secure, secure.next_layer(), u, headers, body, o, deadline, out);
}

}  // namespace

asio::ssl::context make_client_tls() {
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_default_verify_paths();
  tls.set_verify_mode(asio::ssl::verify_peer);
  return tls;
}

asio::awaitable<post_result> post(asio::ssl::context& tls, const target_url& url,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body, const client_options& options) {
  auto started = steady::now();
  auto deadline = started + options.total_timeout;
  post_result out;
  try {
    co_await connect_and_post(tls, url, headers, body, options, deadline, out);
  } catch (const attempt_failure& e) {
    out.error = e.what();
    out.refused = e.refused;
  } catch (const std::exception& e) {
    out.error = std::string("the request failed: ") + e.what();
  }
  out.latency = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  co_return out;
}

}  // namespace reel::webhooks
