// An email as it travels (RFC 5322 with MIME, RFC 2045/2047): the headers
// reel writes, the text body in quoted-printable (7-bit clean, so any SMTP
// server takes it), lines ending in CRLF. Pure functions, any thread.
#pragma once

#include "core/clock.hpp"
#include "domain/mailer.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace reel::mail {

// A mailbox with an optional display name ("reel <reel@example.com>").
struct address {
  std::string display;  // UTF-8, may be empty
  std::string mailbox;  // local@domain
};

// Parses "Name <local@domain>", "\"Name\" <local@domain>" or "local@domain";
// nullopt when there is no plausible mailbox or the text holds a control
// character (CR and LF included).
std::optional<address> parse_address(std::string_view text);

// The header value for `text`: itself when it is printable ASCII, else
// RFC 2047 encoded words (UTF-8, base64) folded onto continuation lines.
std::string encode_header_text(std::string_view text);

// Quoted-printable (RFC 2045 6.7) of UTF-8 text whose lines end in \n or
// \r\n: lines of at most 76 characters, CRLF line ends, a final CRLF.
std::string quoted_printable(std::string_view text);

// The whole message (headers, blank line, body), CRLF throughout, not yet
// dot-stuffed. Throws error(bad_request) when the recipient or subject holds
// a line break or another control character (no header injection), or the
// recipient is not a mailbox.
std::string compose(const domain::mail_message& m, const address& from, sys_time date, std::string_view message_id);

// "Thu, 26 Nov 2026 03:14:08 +0000" (RFC 5322 date-time, UTC).
std::string rfc5322_date(sys_time t);

// True when `mailbox` looks like local@domain without spaces, controls,
// brackets or quotes (what reel puts in MAIL FROM / RCPT TO).
bool plain_mailbox(std::string_view mailbox);

}  // namespace reel::mail
