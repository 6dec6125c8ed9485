// The SMTP client against a real SMTP server on loopback (the test sink),
// in clear text, with STARTTLS and with implicit TLS (a self-signed
// certificate made with the openssl command).
#include "mail/smtp_client.hpp"

#include "mail/message.hpp"
#include "support/run.hpp"
#include "support/smtp_sink.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>

#include <filesystem>
#include <optional>

using namespace reel::mail;
using reel::test::smtp_sink;
using reel::test::smtp_sink_options;
namespace asio = boost::asio;

namespace {

envelope smtp_sample(const std::string& body = "Hello,\nthis is a test.\n") {
  reel::domain::mail_message m{"ann@example.com", "Greetings", body};
  auto from = *parse_address("reel <reel@example.com>");
  return {"reel@example.com", "ann@example.com",
          compose(m, from, reel::from_iso8601("2026-11-26T03:14:08.000Z").value(), "t1@example.com")};
}

asio::awaitable<void> deliver_catching(const smtp_server& server, const smtp_options& o, asio::ssl::context& tls,
                                       const envelope& e, std::optional<smtp_failure>& failure) {
  try {
    co_await deliver(server, o, tls, e);
  } catch (const smtp_failure& f) {
    failure.emplace(f);
  }
}

// Delivers `e` to `url`; the failure, if any.
std::optional<smtp_failure> send_to(const std::string& url, asio::ssl::context& tls, const envelope& e = smtp_sample(),
                                    smtp_options o = {}) {
  auto server = parse_smtp_url(url);
  std::optional<smtp_failure> failure;
  reel::test::run(deliver_catching(server, o, tls, e, failure));
  return failure;
}

asio::ssl::context& system_tls() {
  static auto tls = tls_context();
  return *tls;
}

// A self-signed certificate for localhost, made once per test process.
const std::pair<std::string, std::string>& certificate() {
  static const auto files = [] {
    auto dir = std::filesystem::temp_directory_path() / ("reel-mail-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return reel::test::make_test_certificate(dir.string());
  }();
  return files;
}

asio::ssl::context& trusting_test_certificate() {
  static auto tls = tls_context(certificate().first);
  return *tls;
}

std::string with_port(const std::string& prefix, const smtp_sink& sink, const std::string& suffix = "") {
  return prefix + std::to_string(sink.port()) + suffix;
}

}  // namespace

TEST(smtp_client, delivers_a_message_in_clear_text) {
  smtp_sink sink;
  auto failure = send_to(sink.url(), system_tls());
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  auto m = sink.messages()[0];
  EXPECT_EQ(m.mail_from, "reel@example.com");
  EXPECT_EQ(m.rcpt_to, std::vector<std::string>{"ann@example.com"});
  EXPECT_EQ(m.header("Subject"), "Greetings");
  EXPECT_EQ(m.header("To"), "ann@example.com");
  EXPECT_EQ(m.header("Message-ID"), "<t1@example.com>");
  EXPECT_EQ(m.body(), "Hello,\nthis is a test.\n");
  EXPECT_FALSE(m.tls);
  auto commands = sink.commands();
  ASSERT_GE(commands.size(), 5u);
  EXPECT_EQ(commands[0], "EHLO [127.0.0.1]");
  EXPECT_EQ(commands[1], "MAIL FROM:<reel@example.com>");
  EXPECT_EQ(commands[2], "RCPT TO:<ann@example.com>");
  EXPECT_EQ(commands[3], "DATA");
  EXPECT_EQ(commands[4], "QUIT");
}

TEST(smtp_client, lines_that_start_with_a_dot_arrive_intact) {
  smtp_sink sink;
  std::string body = "first\n.\n..two dots\n.hidden\nlast\n";
  auto failure = send_to(sink.url(), system_tls(), smtp_sample(body));
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].body(), body);
}

TEST(smtp_client, authenticates_with_plain_and_percent_decoded_credentials) {
  smtp_sink sink({.user = "ann@example.com", .password = "p:ss w@rd%"});
  auto failure = send_to(with_port("smtp://ann%40example.com:p%3Ass%20w%40rd%25@127.0.0.1:", sink, "?starttls=never"),
                         system_tls());
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].auth_user, "ann@example.com");
  auto commands = sink.commands();
  EXPECT_NE(std::find(commands.begin(), commands.end(), "AUTH PLAIN"), commands.end());
}

TEST(smtp_client, authenticates_with_login_when_plain_is_not_offered) {
  smtp_sink sink({.user = "ann", .password = "secret", .auth_mechanisms = {"LOGIN", "CRAM-MD5"}});
  auto failure = send_to(with_port("smtp://ann:secret@127.0.0.1:", sink, "?starttls=never"), system_tls());
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].auth_user, "ann");
}

TEST(smtp_client, a_wrong_password_is_a_permanent_failure_that_never_names_it) {
  smtp_sink sink({.user = "ann", .password = "right"});
  auto failure = send_to(with_port("smtp://ann:wrongpassword@127.0.0.1:", sink, "?starttls=never"), system_tls());
  ASSERT_TRUE(failure);
  EXPECT_FALSE(failure->temporary());
  EXPECT_NE(std::string(failure->what()).find("535"), std::string::npos) << failure->what();
  EXPECT_EQ(std::string(failure->what()).find("wrongpassword"), std::string::npos) << failure->what();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_client, the_password_is_not_sent_in_clear_text_unless_the_url_says_so) {
  smtp_sink sink({.user = "ann", .password = "secret"});
  auto failure = send_to(with_port("smtp://ann:secret@127.0.0.1:", sink), system_tls());
  ASSERT_TRUE(failure);
  EXPECT_FALSE(failure->temporary());
  EXPECT_NE(std::string(failure->what()).find("starttls=never"), std::string::npos) << failure->what();
  for (const auto& c : sink.commands()) EXPECT_FALSE(c.starts_with("AUTH")) << c;
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_client, starttls_upgrades_verifies_the_certificate_then_authenticates) {
  smtp_sink sink(
      {.user = "ann", .password = "secret", .cert_file = certificate().first, .key_file = certificate().second});
  auto failure = send_to(with_port("smtp://ann:secret@localhost:", sink), trusting_test_certificate());
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_TRUE(sink.messages()[0].tls);
  EXPECT_EQ(sink.messages()[0].auth_user, "ann");
  auto commands = sink.commands();
  ASSERT_GE(commands.size(), 4u);
  EXPECT_TRUE(commands[0].starts_with("EHLO "));
  EXPECT_EQ(commands[1], "STARTTLS");
  EXPECT_TRUE(commands[2].starts_with("EHLO "));  // again, over TLS
  EXPECT_EQ(commands[3], "AUTH PLAIN");
}

TEST(smtp_client, starttls_to_an_untrusted_certificate_fails_before_anything_is_sent) {
  smtp_sink sink(
      {.user = "ann", .password = "secret", .cert_file = certificate().first, .key_file = certificate().second});
  auto failure = send_to(with_port("smtp://ann:secret@localhost:", sink), system_tls());
  ASSERT_TRUE(failure);
  EXPECT_TRUE(failure->temporary());
  EXPECT_NE(std::string(failure->what()).find("TLS"), std::string::npos) << failure->what();
  for (const auto& c : sink.commands()) EXPECT_FALSE(c.starts_with("AUTH")) << c;
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_client, a_certificate_for_another_name_is_refused) {
  // The certificate names localhost and 127.0.0.1, not 127.0.0.2 (also loopback).
  smtp_sink sink({.cert_file = certificate().first,
                  .key_file = certificate().second,
                  .implicit_tls = true,
                  .listen_address = "127.0.0.2"});
  auto failure = send_to(sink.url(), trusting_test_certificate());
  ASSERT_TRUE(failure);
  EXPECT_NE(std::string(failure->what()).find("TLS handshake"), std::string::npos) << failure->what();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_client, smtps_speaks_tls_from_the_first_byte) {
  smtp_sink sink({.user = "ann",
                  .password = "secret",
                  .cert_file = certificate().first,
                  .key_file = certificate().second,
                  .implicit_tls = true});
  auto failure = send_to(with_port("smtps://ann:secret@localhost:", sink), trusting_test_certificate());
  ASSERT_FALSE(failure) << failure->what();
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_TRUE(sink.messages()[0].tls);
  EXPECT_EQ(sink.messages()[0].auth_user, "ann");
}

TEST(smtp_client, starttls_required_but_not_offered_is_a_permanent_failure) {
  smtp_sink sink;
  auto failure = send_to(with_port("smtp://127.0.0.1:", sink, "?starttls=required"), system_tls());
  ASSERT_TRUE(failure);
  EXPECT_FALSE(failure->temporary());
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_client, a_4xx_reply_is_temporary_and_a_5xx_reply_permanent) {
  smtp_sink busy({.fail_first = 1, .fail_code = 451});
  auto later = send_to(busy.url(), system_tls());
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->temporary());
  EXPECT_NE(std::string(later->what()).find("451"), std::string::npos) << later->what();
  smtp_sink refusing({.fail_first = 1, .fail_code = 554});
  auto never = send_to(refusing.url(), system_tls());
  ASSERT_TRUE(never);
  EXPECT_FALSE(never->temporary());
  EXPECT_NE(std::string(never->what()).find("554"), std::string::npos) << never->what();
}

TEST(smtp_client, an_unreachable_server_is_a_temporary_failure) {
  unsigned short port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  auto failure = send_to("smtp://127.0.0.1:" + std::to_string(port), system_tls());
  ASSERT_TRUE(failure);
  EXPECT_TRUE(failure->temporary());
  EXPECT_NE(std::string(failure->what()).find("connect"), std::string::npos) << failure->what();
}

TEST(smtp_client, a_server_that_says_nothing_times_out) {
  smtp_sink sink({.silent = true});
  smtp_options o;
  o.command_timeout = std::chrono::milliseconds(300);
  auto t0 = std::chrono::steady_clock::now();
  auto failure = send_to(sink.url(), system_tls(), smtp_sample(), o);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(failure);
  EXPECT_TRUE(failure->temporary());
  EXPECT_NE(std::string(failure->what()).find("greeting"), std::string::npos) << failure->what();
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
}
