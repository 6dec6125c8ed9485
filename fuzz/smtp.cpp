// What the SMTP client reads from a mail server and from its own
// configuration (src/mail): reply lines (mail/smtp_reply.hpp) as the
// session feeds them, the REEL_SMTP_URL parser, and dot-stuffing of the
// message. Invariants: a reply's code is the three digits of every line and
// it ends exactly at the first "NNN " line; a parsed URL names a host and a
// port, its where() is only they, and a password comes with a user; dot-stuffed data ends
// with CRLF.CRLF, has only CRLF line ends and no line starting with a lone
// "." before the end, and un-stuffed gives the data back (line ends made CRLF).
#include "fuzz.hpp"
#include "mail/smtp_client.hpp"
#include "mail/smtp_reply.hpp"

#include <stdexcept>
#include <string>

namespace mail = reel::mail;

namespace {

void check_reply(std::string_view bytes) {
  mail::smtp_reply r;
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    std::string_view line = bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl + 1);
    bytes.remove_prefix(line.size());
    const std::size_t before = r.lines.size();
    const int code = r.code;
    switch (mail::add_reply_line(r, line)) {
      case mail::reply_line::more:
      case mail::reply_line::last: {
        FUZZ_CHECK(r.lines.size() == before + 1);
        FUZZ_CHECK(r.code >= 0 && r.code <= 999);
        FUZZ_CHECK(before == 0 || r.code == code);
        FUZZ_CHECK(std::to_string(1000 + r.code).substr(1) == line.substr(0, 3));
        break;
      }
      case mail::reply_line::malformed:
      case mail::reply_line::code_changed:
        FUZZ_CHECK(r.lines.size() == before && r.code == code);
        return;
    }
    auto trimmed = line;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.remove_suffix(1);
    if (trimmed.size() == 3 || trimmed[3] == ' ') {
      r = {};  // the session returns this reply; the next starts afresh
    }
  }
}

void check_url(std::string_view url) {
  try {
    mail::smtp_server s = mail::parse_smtp_url(url);
    FUZZ_CHECK(!s.host.empty() && !s.port.empty());
    FUZZ_CHECK(s.where() == s.host + ":" + s.port);  // what logs show: never the credentials
    FUZZ_CHECK(s.port.size() <= 5 && s.port.find_first_not_of("0123456789") == std::string::npos);
    FUZZ_CHECK(s.password.empty() || !s.user.empty());
  } catch (const std::invalid_argument&) {
  }
}

void check_dot_stuffing(std::string_view data) {
  const std::string out = mail::dot_stuffed(data);
  FUZZ_CHECK(data.empty() ? out == ".\r\n" : out.ends_with("\r\n.\r\n"));
  // Undo it: every line that starts with "." loses one.
  std::string undone;
  std::string_view body = std::string_view(out).substr(0, out.size() - 3);  // keep the last CRLF
  std::size_t i = 0;
  while (i < body.size()) {
    auto crlf = body.find("\r\n", i);
    FUZZ_CHECK(crlf != std::string_view::npos);
    std::string_view line = body.substr(i, crlf - i);
    FUZZ_CHECK(line.find_first_of("\r\n") == std::string_view::npos);
    if (line.starts_with('.')) {
      FUZZ_CHECK(line.size() >= 2 && line[1] == '.');
      line.remove_prefix(1);
    }
    undone.append(line).append("\r\n");
    i = crlf + 2;
  }
  // The data with every line end (CRLF, bare LF, bare CR) made CRLF, and a
  // final CRLF when it has none.
  std::string want;
  for (std::size_t k = 0; k < data.size(); ++k) {
    if (data[k] == '\r' || data[k] == '\n') {
      if (data[k] == '\r' && k + 1 < data.size() && data[k + 1] == '\n') ++k;
      want += "\r\n";
    } else {
      want += data[k];
    }
  }
  if (!want.empty() && !want.ends_with("\r\n")) want += "\r\n";
  FUZZ_CHECK(undone == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  check_url(in.text());
  check_dot_stuffing(in.text());
  check_reply(in.rest());
  return 0;
}
