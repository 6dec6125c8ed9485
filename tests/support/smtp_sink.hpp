// A small SMTP server for tests, on 127.0.0.1 (port 0), in a thread of its
// own: ESMTP enough for reel's client (EHLO/HELO, STARTTLS, AUTH PLAIN and
// LOGIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT). It keeps
// what it received, and can be told to refuse the first messages (4xx or
// 5xx), to offer TLS with a given certificate, or to say nothing at all.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reel::test {

struct smtp_sink_options {
  // Non-empty: MAIL needs AUTH first, with these.
  std::string user, password;
  // Offered in EHLO when a user is set.
  std::vector<std::string> auth_mechanisms = {"PLAIN", "LOGIN"};
  // PEM files: with them the sink offers STARTTLS (or, with implicit_tls,
  // speaks TLS from the first byte, as smtps:// servers do).
  std::string cert_file, key_file;
  bool implicit_tls = false;
  // The first `fail_first` messages are answered `fail_code` at the end of
  // DATA (and not kept).
  int fail_first = 0;
  int fail_code = 451;
  // Accepts connections and never answers (timeouts).
  bool silent = false;
  // A loopback address to listen on.
  std::string listen_address = "127.0.0.1";
};

struct received_mail {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // as sent, dot-unstuffed, CRLF lines, without the closing "."
  std::string auth_user;
  bool tls = false;
  // The first header of that name (case-insensitive), unfolded; "" if none.
  std::string header(std::string_view name) const;
  // What follows the blank line, quoted-printable decoded when the message
  // says it is, with CRLF made LF.
  std::string body() const;
};

class smtp_sink {
 public:
  explicit smtp_sink(smtp_sink_options options = {});
  ~smtp_sink();
  smtp_sink(const smtp_sink&) = delete;
  smtp_sink& operator=(const smtp_sink&) = delete;

  unsigned short port() const;
  // smtp://<listen address>:<port> (smtps:// with implicit_tls).
  std::string url() const;
  std::vector<received_mail> messages() const;
  // Waits until `n` messages are kept; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Connections accepted so far.
  int connections() const;
  // Every command line received, in order, AUTH arguments left out
  // ("EHLO [127.0.0.1]", "STARTTLS", "AUTH PLAIN", "MAIL FROM:<a@b>", ...).
  std::vector<std::string> commands() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// Writes a self-signed certificate for localhost and 127.0.0.1 (and its
// key) into `dir` with the openssl command; returns {cert, key} paths.
std::pair<std::string, std::string> make_test_certificate(const std::string& dir);

// Decodes quoted-printable text (soft breaks removed, =XX decoded).
std::string decode_quoted_printable(std::string_view text);

}  // namespace reel::test
