#include "support/smtp_sink.hpp"

#include "core/digest.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace reel::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct smtp_sink::impl {
  smtp_sink_options options;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::optional<asio::ssl::context> tls;
  std::thread thread;
  mutable std::mutex m;
  std::vector<received_mail> kept;
  std::vector<std::string> commands;
  int connections = 0;
  int failures_left = 0;
  std::vector<std::unique_ptr<tcp::socket>> held;  // silent: open, never answered
};

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string between_brackets(const std::string& line) {
  auto open = line.find('<'), close = line.rfind('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return line.substr(open + 1, close - open - 1);
}

struct conversation {
  smtp_sink::impl& sink;
  bool tls = false;
  bool authed = false;
  std::string auth_user;
  received_mail current;
  std::string buffer;
};

template <class Stream>
asio::awaitable<std::optional<std::string>> read_line(Stream& s, std::string& buffer) {
  auto [ec, n] = co_await asio::async_read_until(s, asio::dynamic_buffer(buffer, 1 << 22), "\n", use_tuple);
  if (ec) co_return std::nullopt;
  std::string line = buffer.substr(0, n);
  buffer.erase(0, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  co_return line;
}

// (A view, not a string: no std::string temporary in the co_await
// expressions of the callers, which GCC 12 may destroy twice.)
template <class Stream>
asio::awaitable<void> say(Stream& s, std::string_view text) {
  std::string bytes(text);
  co_await asio::async_write(s, asio::buffer(bytes), use_tuple);
}

std::string ehlo_reply(const conversation& c) {
  const auto& o = c.sink.options;
  std::string r = "250-sink.test greets you\r\n";
  if (c.sink.tls && !c.tls) r += "250-STARTTLS\r\n";
  if (!o.user.empty() && !o.auth_mechanisms.empty()) {
    r += "250-AUTH";
    for (const auto& mech : o.auth_mechanisms) r += " " + mech;
    r += "\r\n";
  }
  return r + "250-8BITMIME\r\n250 HELP\r\n";
}

template <class Stream>
asio::awaitable<void> authenticate(Stream& s, conversation& c, const std::string& line) {
  const auto& o = c.sink.options;
  std::string mech = upper(line.size() > 5 ? line.substr(5, line.find(' ', 5) - 5) : "");
  std::string initial = line.find(' ', 5) == std::string::npos ? "" : line.substr(line.find(' ', 5) + 1);
  if (o.user.empty() ||
      std::find(o.auth_mechanisms.begin(), o.auth_mechanisms.end(), mech) == o.auth_mechanisms.end()) {
    co_await say(s, "504 5.5.4 Unrecognized authentication type\r\n");
    co_return;
  }
  std::string user, password;
  if (mech == "PLAIN") {
    if (initial.empty()) {
      co_await say(s, "334 \r\n");
      auto response = co_await read_line(s, c.buffer);
      initial = response.value_or("");
    }
    std::string decoded = base64_decode(initial).value_or("");
    auto first = decoded.find('\0'), second = decoded.find('\0', first + 1);
    if (first != std::string::npos && second != std::string::npos) {
      user = decoded.substr(first + 1, second - first - 1);
      password = decoded.substr(second + 1);
    }
  } else {
    co_await say(s, "334 VXNlcm5hbWU6\r\n");
    auto user_line = co_await read_line(s, c.buffer);
    user = base64_decode(user_line.value_or("")).value_or("");
    co_await say(s, "334 UGFzc3dvcmQ6\r\n");
    auto password_line = co_await read_line(s, c.buffer);
    password = base64_decode(password_line.value_or("")).value_or("");
  }
  if (user == o.user && password == o.password) {
    c.authed = true;
    c.auth_user = user;
    co_await say(s, "235 2.7.0 Authentication successful\r\n");
  } else {
    co_await say(s, "535 5.7.8 Authentication credentials invalid\r\n");
  }
}

// After DATA's 354: the lines up to ".", unstuffed; then keeps the message
// or refuses it as told.
template <class Stream>
asio::awaitable<bool> receive_data(Stream& s, conversation& c) {
  co_await say(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
  std::string data;
  for (;;) {
    auto line = co_await read_line(s, c.buffer);
    if (!line) co_return false;
    if (*line == ".") break;
    if (line->starts_with(".")) line->erase(0, 1);
    data += *line + "\r\n";
  }
  c.current.data = std::move(data);
  c.current.tls = c.tls;
  c.current.auth_user = c.auth_user;
  int refuse = 0;
  {
    std::lock_guard lock(c.sink.m);
    if (c.sink.failures_left > 0) {
      --c.sink.failures_left;
      refuse = c.sink.options.fail_code;
    } else {
      c.sink.kept.push_back(c.current);
    }
  }
  std::string answer = refuse ? std::to_string(refuse) + " try that again later\r\n" : "250 2.0.0 Ok: queued\r\n";
  co_await say(s, answer);
  co_return true;
}

enum class next_step { close, starttls };

template <class Stream>
asio::awaitable<next_step> converse(Stream& s, conversation& c) {
  for (;;) {
    auto line = co_await read_line(s, c.buffer);
    if (!line) co_return next_step::close;
    std::string verb = upper(line->substr(0, line->find(' ')));
    if (verb.starts_with("MAIL") || verb.starts_with("RCPT")) verb = upper(line->substr(0, 4));
    {
      std::lock_guard lock(c.sink.m);
      c.sink.commands.push_back(verb == "AUTH" ? line->substr(0, line->find(' ', 5)) : *line);
    }
    if (verb == "EHLO") {
      std::string reply = ehlo_reply(c);
      co_await say(s, reply);
    } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
      co_await say(s, "250 Ok\r\n");
    } else if (verb == "STARTTLS") {
      if (!c.sink.tls || c.tls) {
        co_await say(s, "502 5.5.1 Not here\r\n");
        continue;
      }
      co_await say(s, "220 2.0.0 Ready to start TLS\r\n");
      co_return next_step::starttls;
    } else if (verb == "AUTH") {
      co_await authenticate(s, c, *line);
    } else if (verb == "MAIL") {
      if (!c.sink.options.user.empty() && !c.authed) {
        co_await say(s, "530 5.7.0 Authentication required\r\n");
        continue;
      }
      c.current = {};
      c.current.mail_from = between_brackets(*line);
      co_await say(s, "250 2.1.0 Ok\r\n");
    } else if (verb == "RCPT") {
      c.current.rcpt_to.push_back(between_brackets(*line));
      co_await say(s, "250 2.1.5 Ok\r\n");
    } else if (verb == "DATA") {
      bool open = co_await receive_data(s, c);
      if (!open) co_return next_step::close;
    } else if (verb == "QUIT") {
      co_await say(s, "221 2.0.0 Bye\r\n");
      co_return next_step::close;
    } else {
      co_await say(s, "502 5.5.2 Command not recognized\r\n");
    }
  }
}

asio::awaitable<void> run_session(smtp_sink::impl& sink, tcp::socket sock) {
  if (sink.options.silent) {
    sink.held.push_back(std::make_unique<tcp::socket>(std::move(sock)));
    co_return;
  }
  conversation c{sink};
  if (sink.options.implicit_tls) {
    asio::ssl::stream<tcp::socket> secure(std::move(sock), *sink.tls);
    auto [ec] = co_await secure.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (ec) co_return;
    c.tls = true;
    co_await say(secure, "220 sink.test ESMTP\r\n");
    co_await converse(secure, c);
    co_return;
  }
  co_await say(sock, "220 sink.test ESMTP\r\n");
  auto next = co_await converse(sock, c);
  if (next != next_step::starttls) co_return;
  asio::ssl::stream<tcp::socket> secure(std::move(sock), *sink.tls);
  auto [ec] = co_await secure.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) co_return;
  c.tls = true;
  c.authed = false;
  c.buffer.clear();
  co_await converse(secure, c);
}

asio::awaitable<void> run_acceptor(smtp_sink::impl& sink) {
  for (;;) {
    auto [ec, sock] = co_await sink.acceptor.async_accept(use_tuple);
    if (ec) co_return;
    {
      std::lock_guard lock(sink.m);
      ++sink.connections;
    }
    asio::co_spawn(sink.io, run_session(sink, std::move(sock)), asio::detached);
  }
}

}  // namespace

smtp_sink::smtp_sink(smtp_sink_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->failures_left = impl_->options.fail_first;
  if (!impl_->options.cert_file.empty()) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(impl_->options.cert_file);
    impl_->tls->use_private_key_file(impl_->options.key_file, asio::ssl::context::pem);
  }
  tcp::endpoint at(asio::ip::make_address(impl_->options.listen_address), 0);
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->io, run_acceptor(*impl_), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

smtp_sink::~smtp_sink() {
  impl_->io.stop();
  impl_->thread.join();
}

unsigned short smtp_sink::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string smtp_sink::url() const {
  return std::string(impl_->options.implicit_tls ? "smtps" : "smtp") + "://" + impl_->options.listen_address + ":" +
         std::to_string(port());
}

std::vector<received_mail> smtp_sink::messages() const {
  std::lock_guard lock(impl_->m);
  return impl_->kept;
}

bool smtp_sink::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (messages().size() < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

int smtp_sink::connections() const {
  std::lock_guard lock(impl_->m);
  return impl_->connections;
}

std::vector<std::string> smtp_sink::commands() const {
  std::lock_guard lock(impl_->m);
  return impl_->commands;
}

std::string received_mail::header(std::string_view name) const {
  std::string wanted = upper(name) + ":";
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto end = data.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;  // the blank line ends the headers
    std::string line = data.substr(pos, end - pos);
    pos = end + 2;
    if (!upper(line).starts_with(wanted)) continue;
    std::string value = line.substr(wanted.size());
    while (pos < data.size() && (data[pos] == ' ' || data[pos] == '\t')) {  // folded
      auto next = data.find("\r\n", pos);
      value += data.substr(pos, next - pos);
      pos = next + 2;
    }
    auto first = value.find_first_not_of(" \t");
    return first == std::string::npos ? "" : value.substr(first);
  }
  return "";
}

std::string received_mail::body() const {
  auto blank = data.find("\r\n\r\n");
  std::string text = blank == std::string::npos ? "" : data.substr(blank + 4);
  if (upper(header("Content-Transfer-Encoding")) == "QUOTED-PRINTABLE") text = decode_quoted_printable(text);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (!(text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) out += text[i];
  return out;
}

std::string decode_quoted_printable(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else if (text.substr(i + 1, 1) == "\n") {
      i += 1;
    } else if (i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += '=';
    }
  }
  return out;
}

std::pair<std::string, std::string> make_test_certificate(const std::string& dir) {
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
      "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
  return {cert, key};
}

}  // namespace reel::test
