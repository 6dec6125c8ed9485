// One SMTP delivery (RFC 5321) on Boost.Asio: resolve, connect, TLS
// (implicit for smtps://, STARTTLS for smtp:// when the server offers it),
// EHLO, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA (dot-stuffed), QUIT.
// Every step has a deadline. Loop thread; nothing blocks it (name
// resolution is asynchronous too).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reel::mail {

// What REEL_SMTP_URL names: smtp://[user:password@]host[:port][?starttls=auto|required|never]
// or smtps://[user:password@]host[:port]. User and password are
// percent-decoded. Ports default to 25 (smtp) and 465 (smtps).
struct smtp_server {
  enum class starttls { automatic, required, never };
  bool implicit_tls = false;  // smtps://
  // smtp:// only: `automatic` upgrades when the server offers STARTTLS;
  // `required` refuses to go on without it; `never` stays in clear text
  // (a relay on the same host whose certificate cannot be verified).
  starttls upgrade = starttls::automatic;
  std::string host;  // a name, an IPv4 address or an IPv6 address (brackets removed)
  std::string port;
  std::string user;  // empty: no AUTH
  std::string password;

  // "host:port", for logs (never the credentials).
  std::string where() const { return host + ":" + port; }
};

// Parses the URL; throws std::invalid_argument with a sentence that never
// repeats the password.
smtp_server parse_smtp_url(std::string_view url);

struct smtp_options {
  // Resolving and connecting, then the TLS handshake, each within this.
  std::chrono::milliseconds connect_timeout{10'000};
  // Each reply of the server (the end of DATA included) within this.
  std::chrono::milliseconds command_timeout{60'000};
  // The name given in EHLO; empty: the address literal of this end of the
  // connection ("[192.0.2.1]"), which RFC 5321 allows a client without a name.
  std::string helo_name;
};

// A delivery that did not happen. temporary(): a 4xx reply, a network
// error, a timeout or a TLS failure (worth another try later); otherwise
// the server refused for good (5xx) or the client cannot go on (no TLS
// for the password, no AUTH mechanism it knows). what() is for the log:
// the step and the server's reply, never the credentials.
class smtp_failure : public std::runtime_error {
 public:
  smtp_failure(bool temporary, const std::string& what) : std::runtime_error(what), temporary_(temporary) {}
  bool temporary() const noexcept { return temporary_; }

 private:
  bool temporary_;
};

// The TLS settings of every delivery: TLS 1.2 or newer, the server's
// certificate verified against `ca_file` (PEM), or when it is empty against
// the system's store (OpenSSL's default paths: SSL_CERT_FILE and
// SSL_CERT_DIR are honoured). Reads the certificates: call it at start-up,
// not on the loop. Throws std::runtime_error naming the file it cannot read.
std::unique_ptr<boost::asio::ssl::context> tls_context(const std::string& ca_file = "");

// What one delivery carries: the envelope and the composed message
// (mail::compose: CRLF lines, not dot-stuffed).
struct envelope {
  std::string from;  // mailbox for MAIL FROM
  std::string to;    // mailbox for RCPT TO
  std::string data;
};

// Delivers `e` to `server` in one SMTP session; returns once the server has
// accepted the message (250 after DATA). Throws smtp_failure.
// `tls` (from tls_context) must outlive the delivery.
boost::asio::awaitable<void> deliver(const smtp_server& server, const smtp_options& options,
                                     boost::asio::ssl::context& tls, const envelope& e);

// `data` with every line that starts with "." given another one (RFC 5321
// 4.5.2), bare LF made CRLF, and the final "\r\n.\r\n".
std::string dot_stuffed(std::string_view data);

}  // namespace reel::mail
