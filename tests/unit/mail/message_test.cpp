#include "mail/message.hpp"

#include "core/digest.hpp"
#include "core/errors.hpp"
#include "mail/smtp_client.hpp"
#include "support/smtp_sink.hpp"

#include <gtest/gtest.h>

using namespace reel::mail;
using reel::errc;
using reel::test::decode_quoted_printable;

namespace {

reel::sys_time at_2026_11_26() { return reel::from_iso8601("2026-11-26T03:14:08.000Z").value(); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return out;
}

}  // namespace

TEST(mail_address, parses_the_forms_of_smtp_from) {
  auto a = parse_address("reel <reel@example.com>");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->display, "reel");
  EXPECT_EQ(a->mailbox, "reel@example.com");
  auto quoted = parse_address(" \"Reel, Inc.\" <no-reply@example.com> ");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->display, "Reel, Inc.");
  EXPECT_EQ(quoted->mailbox, "no-reply@example.com");
  auto bare = parse_address("reel@example.com");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->display, "");
  EXPECT_EQ(bare->mailbox, "reel@example.com");
  EXPECT_FALSE(parse_address("reel"));
  EXPECT_FALSE(parse_address("reel <reel@example.com"));
  EXPECT_FALSE(parse_address("reel <a b@example.com>"));
  EXPECT_FALSE(parse_address("reel\r\nBcc: x@y.z <reel@example.com>"));
}

TEST(mail_message, compose_writes_the_headers_and_a_quoted_printable_body) {
  reel::domain::mail_message m{"ann@example.com", "Reset your password", "Hello,\nopen https://x.test/r#token=abc\n"};
  auto from = *parse_address("reel <reel@example.com>");
  std::string text = compose(m, from, at_2026_11_26(), "id1@example.com");
  auto lines = lines_of(text);
  EXPECT_EQ(lines[0], "Date: Thu, 26 Nov 2026 03:14:08 +0000");
  EXPECT_EQ(lines[1], "From: reel <reel@example.com>");
  EXPECT_EQ(lines[2], "To: ann@example.com");
  EXPECT_EQ(lines[3], "Subject: Reset your password");
  EXPECT_EQ(lines[4], "Message-ID: <id1@example.com>");
  EXPECT_NE(text.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nContent-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(text.find("\r\nContent-Transfer-Encoding: quoted-printable\r\n"), std::string::npos);
  auto body = text.substr(text.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "Hello,\r\nopen https://x.test/r#token=3Dabc\r\n");
  EXPECT_EQ(decode_quoted_printable(body), "Hello,\r\nopen https://x.test/r#token=abc\r\n");
  // Only CRLF line ends: no bare LF anywhere.
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      EXPECT_TRUE(i > 0 && text[i - 1] == '\r') << i;
    }
  }
}

TEST(mail_message, a_line_break_in_a_header_is_refused_not_sent) {
  auto from = *parse_address("reel@example.com");
  auto refused = [&](reel::domain::mail_message m) {
    try {
      compose(m, from, at_2026_11_26(), "x@y");
    } catch (const reel::error& e) {
      return e.code() == errc::bad_request;
    }
    return false;
  };
  EXPECT_TRUE(refused({"ann@example.com", "Hi\r\nBcc: victim@example.com", "x"}));
  EXPECT_TRUE(refused({"ann@example.com", "Hi\nBcc: victim@example.com", "x"}));
  EXPECT_TRUE(refused({"ann@example.com\r\nBcc: victim@example.com", "Hi", "x"}));
  EXPECT_TRUE(refused({"ann@example.com>\r\nRCPT TO:<victim@example.com", "Hi", "x"}));
  EXPECT_TRUE(refused({"two@example.com, three@example.com", "Hi", "x"}));
  EXPECT_TRUE(refused({"", "Hi", "x"}));
  EXPECT_FALSE(refused({"ann@example.com", "Hi", "a body may hold\r\nline breaks\n"}));
}

TEST(mail_message, a_non_ascii_subject_is_encoded_in_words_of_at_most_75_characters) {
  std::string subject = "Réinitialisez votre mot de passe — ça marche avec des émojis 🎬 et très longtemps encore";
  std::string encoded = encode_header_text(subject);
  EXPECT_TRUE(encoded.starts_with("=?UTF-8?B?"));
  std::string decoded;
  std::size_t start = 0;
  while (start < encoded.size()) {
    auto end = encoded.find("\r\n ", start);
    std::string word = encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
    EXPECT_LE(word.size(), 75u) << word;
    ASSERT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?="));
    auto bytes = reel::base64_decode(word.substr(10, word.size() - 12));
    ASSERT_TRUE(bytes) << word;
    // Each word holds whole characters (RFC 2047 6.3): it ends at a character boundary.
    ASSERT_FALSE(bytes->empty());
    EXPECT_NE(static_cast<unsigned char>(bytes->back()) & 0xC0, 0xC0) << word;
    decoded += *bytes;
    if (end == std::string::npos) break;
    start = end + 3;
  }
  EXPECT_EQ(decoded, subject);
  EXPECT_EQ(encode_header_text("Plain subject"), "Plain subject");
  EXPECT_TRUE(encode_header_text("looks =?encoded?= but is not").starts_with("=?UTF-8?B?"));
}

TEST(mail_message, quoted_printable_keeps_lines_short_and_round_trips) {
  std::string text = std::string(200, 'a') + "\n" + "trailing space \n" + "tab\t\n" + "=equals= and é\n" + "\n" +
                     ".leading dot\n" + "bare\rcr";
  std::string qp = quoted_printable(text);
  for (const auto& line : lines_of(qp)) {
    EXPECT_LE(line.size(), 76u) << line;
    EXPECT_FALSE(line.ends_with(" ") || line.ends_with("\t")) << line;
    for (char c : line) EXPECT_TRUE((c >= 33 && c <= 126) || c == ' ' || c == '\t') << int(c);
  }
  std::string expected =
      std::string(200, 'a') + "\r\ntrailing space \r\ntab\t\r\n=equals= and é\r\n\r\n.leading dot\r\nbare\rcr\r\n";
  EXPECT_EQ(decode_quoted_printable(qp), expected);
}

TEST(mail_message, dot_stuffing_doubles_leading_dots_and_ends_with_a_lone_dot) {
  EXPECT_EQ(dot_stuffed("a\r\n.b\r\n..c\r\n.\r\nd"), "a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(".\n"), "..\r\n.\r\n");
  EXPECT_EQ(dot_stuffed("bare\nlf\rcr"), "bare\r\nlf\r\ncr\r\n.\r\n");
  EXPECT_EQ(dot_stuffed(""), ".\r\n");
}

TEST(mail_message, the_date_is_rfc_5322) {
  EXPECT_EQ(rfc5322_date(reel::from_iso8601("2027-01-03T00:00:05.000Z").value()), "Sun, 03 Jan 2027 00:00:05 +0000");
}

TEST(smtp_url, parses_hosts_ports_credentials_and_tls) {
  auto plain = parse_smtp_url("smtp://mail.example.com");
  EXPECT_FALSE(plain.implicit_tls);
  EXPECT_EQ(plain.host, "mail.example.com");
  EXPECT_EQ(plain.port, "25");
  EXPECT_EQ(plain.user, "");
  EXPECT_EQ(plain.upgrade, smtp_server::starttls::automatic);
  auto secure = parse_smtp_url("smtps://u%40x.org:p%3Ass%25w%40rd@[::1]:4650/");
  EXPECT_TRUE(secure.implicit_tls);
  EXPECT_EQ(secure.host, "::1");
  EXPECT_EQ(secure.port, "4650");
  EXPECT_EQ(secure.user, "u@x.org");
  EXPECT_EQ(secure.password, "p:ss%w@rd");
  EXPECT_EQ(parse_smtp_url("smtps://h").port, "465");
  EXPECT_EQ(parse_smtp_url("smtp://h:587?starttls=required").upgrade, smtp_server::starttls::required);
  EXPECT_EQ(parse_smtp_url("smtp://h?starttls=never").upgrade, smtp_server::starttls::never);
  EXPECT_EQ(parse_smtp_url("smtp://user:p@ss@h:2525").password, "p@ss");
  EXPECT_EQ(parse_smtp_url("smtp://user:p@ss@h:2525").where(), "h:2525");
}

TEST(smtp_url, bad_urls_are_refused_without_repeating_the_password) {
  for (const char* url : {"http://h", "smtp://", "smtp://:secretpw@h", "smtp://u:secretpw@h:0",
                          "smtp://u:secretpw@h:99999", "smtp://u:secretpw@h:25/path", "smtp://u:secretpw@h?tls=1",
                          "smtps://u:secretpw@h?starttls=never", "smtp://u:secret%zzpw@h", "smtp://u:secretpw@[::1"}) {
    try {
      parse_smtp_url(url);
      ADD_FAILURE() << url << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
    }
  }
}
