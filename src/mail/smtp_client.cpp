#include "mail/smtp_client.hpp"

#include "core/async.hpp"
#include "core/digest.hpp"
#include "mail/smtp_reply.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace reel::mail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// RFC 5321 allows reply lines of 512 octets; a little more is tolerated.
constexpr std::size_t k_max_line = 4096;
constexpr int k_max_reply_lines = 100;
// After the message is accepted, QUIT gets this long at most.
constexpr std::chrono::seconds k_quit_timeout{5};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      throw std::invalid_argument(std::string("REEL_SMTP_URL has a bad percent-escape in its ") + what + ".");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool valid_host(std::string_view h) {
  return !h.empty() && h.size() <= 253 && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
  });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// What a server said, safe to log: printable, at most 300 characters.
std::string loggable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

void parse_query(std::string_view query, smtp_server& out) {
  if (query.empty()) return;
  if (out.implicit_tls) throw std::invalid_argument("REEL_SMTP_URL: smtps:// takes no parameters.");
  if (query == "starttls=auto")
    out.upgrade = smtp_server::starttls::automatic;
  else if (query == "starttls=required")
    out.upgrade = smtp_server::starttls::required;
  else if (query == "starttls=never")
    out.upgrade = smtp_server::starttls::never;
  else
    throw std::invalid_argument("REEL_SMTP_URL takes one parameter, starttls=auto, required or never.");
}

void parse_host_port(std::string_view rest, smtp_server& out) {
  std::string_view port;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("REEL_SMTP_URL has an unclosed [ in its host.");
    out.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') throw std::invalid_argument("REEL_SMTP_URL has junk after its host.");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (!valid_host(out.host)) throw std::invalid_argument("REEL_SMTP_URL must name a host.");
  if (port.empty()) {
    out.port = out.implicit_tls ? "465" : "25";
    return;
  }
  bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
    throw std::invalid_argument("REEL_SMTP_URL's port must be a number from 1 to 65535.");
  out.port = std::string(port);
}

}  // namespace

smtp_server parse_smtp_url(std::string_view url) {
  smtp_server out;
  std::string_view rest;
  if (url.starts_with("smtps://")) {
    out.implicit_tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("smtp://")) {
    rest = url.substr(7);
  } else {
    throw std::invalid_argument("REEL_SMTP_URL must start with smtp:// or smtps://.");
  }
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    out.user = percent_decode(userinfo.substr(0, colon), "user");
    if (colon != std::string_view::npos) out.password = percent_decode(userinfo.substr(colon + 1), "password");
    if (out.user.empty()) throw std::invalid_argument("REEL_SMTP_URL has a password but no user.");
  }
  if (rest.find('/') != std::string_view::npos) throw std::invalid_argument("REEL_SMTP_URL must not have a path.");
  parse_host_port(rest, out);
  parse_query(query, out);
  return out;
}

std::unique_ptr<asio::ssl::context> tls_context(const std::string& ca_file) {
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (ca_file.empty())
    tls->set_default_verify_paths(ec);
  else
    tls->load_verify_file(ca_file, ec);
  if (ec)
    throw std::runtime_error("Cannot load the certificates to trust" +
                             (ca_file.empty() ? std::string() : " from " + ca_file) + ": " + ec.message() + ".");
  return tls;
}

std::string dot_stuffed(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
      continue;
    }
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

namespace {

struct reply : smtp_reply {
  std::string text() const { return loggable(std::to_string(code) + " " + (lines.empty() ? "" : lines.front())); }
};

// One SMTP session, from the connection to QUIT.
class session {
 public:
  session(asio::any_io_executor ex, const smtp_server& server, const smtp_options& options, asio::ssl::context& tls)
      : ex_(ex), server_(server), options_(options), tls_(tls), plain_(std::in_place, ex) {}

  asio::awaitable<void> run(const envelope& e);
  const std::string& step() const { return step_; }

 private:
  beast::tcp_stream& lowest() { return secure_ ? secure_->next_layer() : *plain_; }
  asio::awaitable<void> connect();
  asio::awaitable<void> start_tls();
  asio::awaitable<void> greet_and_secure();
  asio::awaitable<reply> read_reply(std::chrono::milliseconds timeout);
  asio::awaitable<void> write(const std::string& bytes);
  asio::awaitable<reply> exchange(const std::string& line);
  asio::awaitable<void> hello();
  asio::awaitable<void> authenticate();
  asio::awaitable<void> transfer(const envelope& e);
  // Throws smtp_failure unless `r` is of class `expected` (2 or 3).
  void expect(const reply& r, int expected) const;
  bool offers(std::string_view keyword) const;
  std::vector<std::string> auth_mechanisms() const;
  std::string helo_name();

  asio::any_io_executor ex_;
  const smtp_server& server_;
  const smtp_options& options_;
  asio::ssl::context& tls_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<asio::ssl::stream<beast::tcp_stream>> secure_;
  std::string buffer_;
  std::vector<std::string> extensions_;  // the EHLO reply's lines after the first, upper case
  std::string step_ = "connect";         // for messages: where it stopped
};

asio::awaitable<void> session::connect() {
  using namespace asio::experimental::awaitable_operators;
  step_ = "resolve " + server_.host;
  tcp::resolver resolver(ex_);
  asio::steady_timer timer(ex_);
  timer.expires_after(options_.connect_timeout);
  auto race = resolver.async_resolve(server_.host, server_.port, use_tuple) || timer.async_wait(use_tuple);
  auto resolved = co_await std::move(race);
  if (resolved.index() == 1) throw smtp_failure(true, step_ + ": no answer in time");
  auto [ec, endpoints] = std::get<0>(std::move(resolved));
  if (ec) throw smtp_failure(true, step_ + ": " + ec.message());
  step_ = "connect to " + server_.where();
  plain_->expires_after(options_.connect_timeout);
  co_await plain_->async_connect(endpoints, asio::use_awaitable);
  if (server_.implicit_tls) co_await start_tls();
}

asio::awaitable<void> session::start_tls() {
  step_ = "TLS handshake with " + server_.where();
  secure_.emplace(std::move(*plain_), tls_);
  plain_.reset();
  secure_->set_verify_mode(asio::ssl::verify_peer);
  secure_->set_verify_callback(asio::ssl::host_name_verification(server_.host));
  boost::system::error_code not_ip;
  asio::ip::make_address(server_.host, not_ip);
  if (not_ip && !SSL_set_tlsext_host_name(secure_->native_handle(), server_.host.c_str()))
    throw smtp_failure(true, step_ + ": cannot set the server name");
  lowest().expires_after(options_.connect_timeout);
  co_await secure_->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
}

asio::awaitable<reply> session::read_reply(std::chrono::milliseconds timeout) {
  reply r;
  for (int n = 0;; ++n) {
    if (n >= k_max_reply_lines) throw smtp_failure(true, step_ + ": the reply has too many lines");
    lowest().expires_after(timeout);
    auto buf = asio::dynamic_buffer(buffer_, k_max_line);
    std::size_t len = 0;
    if (secure_)
      len = co_await asio::async_read_until(*secure_, buf, "\n", asio::use_awaitable);
    else
      len = co_await asio::async_read_until(*plain_, buf, "\n", asio::use_awaitable);
    std::string line = buffer_.substr(0, len);
    buffer_.erase(0, len);
    switch (add_reply_line(r, line)) {
      case reply_line::more:
        break;
      case reply_line::last:
        co_return r;
      case reply_line::malformed:
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        throw smtp_failure(true, step_ + ": not an SMTP reply: " + loggable(line));
      case reply_line::code_changed:
        throw smtp_failure(true, step_ + ": a reply changed its code midway");
    }
  }
}

asio::awaitable<void> session::write(const std::string& bytes) {
  lowest().expires_after(options_.command_timeout);
  if (secure_)
    co_await asio::async_write(*secure_, asio::buffer(bytes), asio::use_awaitable);
  else
    co_await asio::async_write(*plain_, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<reply> session::exchange(const std::string& line) {
  std::string bytes = line + "\r\n";
  co_await write(bytes);
  co_return co_await read_reply(options_.command_timeout);
}

void session::expect(const reply& r, int expected) const {
  if (r.code / 100 == expected) return;
  // 4xx: the server asks to try again later; anything else is final.
  throw smtp_failure(r.code / 100 == 4, step_ + ": " + r.text());
}

bool session::offers(std::string_view keyword) const {
  return std::any_of(extensions_.begin(), extensions_.end(), [&](const std::string& l) {
    return l == keyword || (l.starts_with(keyword) && l.size() > keyword.size() && l[keyword.size()] == ' ');
  });
}

std::vector<std::string> session::auth_mechanisms() const {
  std::vector<std::string> out;
  for (const auto& l : extensions_) {
    if (!(l.starts_with("AUTH ") || l.starts_with("AUTH="))) continue;
    std::size_t i = 5;
    while (i < l.size()) {
      auto end = l.find(' ', i);
      if (end == std::string::npos) end = l.size();
      if (end > i) out.push_back(l.substr(i, end - i));
      i = end + 1;
    }
  }
  return out;
}

std::string session::helo_name() {
  if (!options_.helo_name.empty()) return options_.helo_name;
  boost::system::error_code ec;
  auto local = lowest().socket().local_endpoint(ec);
  if (ec) return "[127.0.0.1]";
  auto a = local.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a.is_v4() ? "[" + a.to_string() + "]" : "[IPv6:" + a.to_string() + "]";
}

asio::awaitable<void> session::hello() {
  std::string name = helo_name();
  step_ = "EHLO";
  std::string ehlo = "EHLO " + name;
  auto r = co_await exchange(ehlo);
  extensions_.clear();
  if (r.code / 100 == 5) {  // a server from before ESMTP
    step_ = "HELO";
    std::string helo = "HELO " + name;
    auto h = co_await exchange(helo);
    expect(h, 2);
    co_return;
  }
  expect(r, 2);
  for (std::size_t i = 1; i < r.lines.size(); ++i) extensions_.push_back(upper(r.lines[i]));
}

asio::awaitable<void> session::greet_and_secure() {
  step_ = "greeting";
  auto greeting = co_await read_reply(options_.command_timeout);
  expect(greeting, 2);
  co_await hello();
  if (server_.implicit_tls || server_.upgrade == smtp_server::starttls::never) co_return;
  if (!offers("STARTTLS")) {
    if (server_.upgrade == smtp_server::starttls::required)
      throw smtp_failure(false, "STARTTLS: the server does not offer it, and the URL requires it");
    co_return;
  }
  step_ = "STARTTLS";
  std::string starttls = "STARTTLS";
  auto r = co_await exchange(starttls);
  expect(r, 2);
  // Anything sent before the handshake would be read as if it came over TLS.
  if (!buffer_.empty()) throw smtp_failure(true, "STARTTLS: the server sent more than its reply");
  co_await start_tls();
  co_await hello();
}

asio::awaitable<void> session::authenticate() {
  if (server_.user.empty()) co_return;
  if (!secure_ && server_.upgrade != smtp_server::starttls::never)
    throw smtp_failure(false,
                       "AUTH: the connection is not encrypted (the server offers no STARTTLS), so the password is not "
                       "sent; add ?starttls=never to REEL_SMTP_URL to send it in clear text all the same");
  auto mechanisms = auth_mechanisms();
  auto has = [&](const char* m) { return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end(); };
  if (has("PLAIN")) {
    step_ = "AUTH PLAIN";
    std::string credentials = std::string(1, '\0') + server_.user + std::string(1, '\0') + server_.password;
    std::string line = "AUTH PLAIN " + base64_encode(credentials);
    OPENSSL_cleanse(credentials.data(), credentials.size());
    auto r = co_await exchange(line);
    OPENSSL_cleanse(line.data(), line.size());
    expect(r, 2);
  } else if (has("LOGIN")) {
    step_ = "AUTH LOGIN";
    std::string start = "AUTH LOGIN", user = base64_encode(server_.user), password = base64_encode(server_.password);
    auto r = co_await exchange(start);
    expect(r, 3);
    r = co_await exchange(user);
    expect(r, 3);
    r = co_await exchange(password);
    OPENSSL_cleanse(password.data(), password.size());
    expect(r, 2);
  } else {
    throw smtp_failure(false, "AUTH: the server offers neither PLAIN nor LOGIN");
  }
}

asio::awaitable<void> session::transfer(const envelope& e) {
  bool utf8 = !ascii(e.from) || !ascii(e.to);
  if (utf8 && !offers("SMTPUTF8"))
    throw smtp_failure(false, "MAIL FROM: an address is not ASCII and the server does not offer SMTPUTF8");
  step_ = "MAIL FROM";
  std::string mail = "MAIL FROM:<" + e.from + ">" + (utf8 ? " SMTPUTF8" : "");
  auto r = co_await exchange(mail);
  expect(r, 2);
  step_ = "RCPT TO";
  std::string rcpt = "RCPT TO:<" + e.to + ">";
  r = co_await exchange(rcpt);
  expect(r, 2);
  step_ = "DATA";
  std::string data = "DATA";
  r = co_await exchange(data);
  expect(r, 3);
  step_ = "end of DATA";
  std::string body = dot_stuffed(e.data);
  co_await write(body);
  r = co_await read_reply(options_.command_timeout);
  expect(r, 2);
}

asio::awaitable<void> session::run(const envelope& e) {
  co_await connect();
  co_await greet_and_secure();
  co_await authenticate();
  co_await transfer(e);
  // Accepted: a server that mishandles QUIT changes nothing now.
  try {
    step_ = "QUIT";
    std::string quit = "QUIT\r\n";
    co_await write(quit);
    co_await read_reply(k_quit_timeout);
  } catch (const std::exception&) {
  }
  boost::system::error_code ignored;
  lowest().socket().close(ignored);
}

}  // namespace

asio::awaitable<void> deliver(const smtp_server& server, const smtp_options& options, asio::ssl::context& tls,
                              const envelope& e) {
  auto ex = co_await asio::this_coro::executor;
  session s(ex, server, options, tls);
  std::string failure;
  try {
    co_await s.run(e);
    co_return;
  } catch (const boost::system::system_error& err) {
    failure = s.step() + ": " + err.code().message();
  }
  throw smtp_failure(true, failure);
}

}  // namespace reel::mail
