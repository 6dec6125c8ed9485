// The background SMTP sender against the test sink: queueing, retries with
// backoff on temporary failures, giving up, refusing bad headers and a full queue.
#include "mail/smtp_mailer.hpp"

#include "core/errors.hpp"
#include "support/run.hpp"
#include "support/smtp_sink.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <regex>
#include <set>

using namespace reel::mail;
using reel::domain::mail_message;
using reel::test::smtp_sink;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

const reel::clock& wall_clock() {
  static reel::system_clock c;
  return c;
}

struct outcome {
  std::uint64_t delivered = 0, failed = 0;
  std::vector<reel::errc> refusals;  // what send() threw, per message
};

mailer_settings quick(unsigned attempts = 3) {
  mailer_settings s;
  s.from = "reel <reel@example.com>";
  s.attempts = attempts;
  s.retry_base = 50ms;
  s.smtp.command_timeout = 2s;
  return s;
}

// Sends `messages` through a mailer to `url` and waits (up to 10 s) until
// `settled` of them were delivered or given up.
asio::awaitable<void> mail_and_wait(const std::string& url, mailer_settings settings,
                                    const std::vector<mail_message>& messages, std::uint64_t settled, outcome& out) {
  auto ex = co_await asio::this_coro::executor;
  smtp_mailer m(ex, wall_clock(), parse_smtp_url(url), tls_context(), settings);
  for (const auto& message : messages) {
    try {
      co_await m.send(message);
    } catch (const reel::error& e) {
      out.refusals.push_back(e.code());
    }
  }
  asio::steady_timer tick(ex);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (m.delivered() + m.failed() < settled && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(10ms);
    co_await tick.async_wait(asio::use_awaitable);
  }
  out.delivered = m.delivered();
  out.failed = m.failed();
  m.stop();
}

outcome mailer_send(const std::string& url, mailer_settings settings, const std::vector<mail_message>& messages,
                    std::uint64_t settled) {
  outcome out;
  reel::test::run(mail_and_wait(url, settings, messages, settled, out));
  return out;
}

mail_message hello(const std::string& to = "ann@example.com") {
  return {to, "Grüße aus reel", "Hello,\nthis came in the background.\n"};
}

}  // namespace

TEST(smtp_mailer, delivers_queued_messages_in_the_background) {
  smtp_sink sink;
  auto out =
      mailer_send(sink.url(), quick(), {hello("a@example.com"), hello("b@example.com"), hello("c@example.com")}, 3);
  EXPECT_EQ(out.delivered, 3u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_TRUE(out.refusals.empty());
  auto got = sink.messages();
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> to;
  for (const auto& m : got) to.insert(m.rcpt_to.at(0));
  EXPECT_EQ(to, (std::set<std::string>{"a@example.com", "b@example.com", "c@example.com"}));
  const auto& m = got[0];
  EXPECT_EQ(m.mail_from, "reel@example.com");
  EXPECT_EQ(m.header("From"), "reel <reel@example.com>");
  EXPECT_TRUE(std::regex_match(m.header("Message-ID"), std::regex("<[A-Za-z0-9_-]{24}@example\\.com>")))
      << m.header("Message-ID");
  EXPECT_TRUE(
      std::regex_match(m.header("Date"), std::regex("(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \\d\\d [A-Z][a-z]{2} \\d{4} "
                                                    "\\d\\d:\\d\\d:\\d\\d \\+0000")))
      << m.header("Date");
  EXPECT_EQ(m.header("Subject"), "=?UTF-8?B?R3LDvMOfZSBhdXMgcmVlbA==?=");
  EXPECT_EQ(m.body(), "Hello,\nthis came in the background.\n");
}

TEST(smtp_mailer, a_temporary_failure_is_tried_again_later) {
  smtp_sink sink({.fail_first = 2, .fail_code = 451});
  auto t0 = std::chrono::steady_clock::now();
  auto out = mailer_send(sink.url(), quick(4), {hello()}, 1);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(out.delivered, 1u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.connections(), 3);
  // Backoff: 50 ms, then 200 ms.
  EXPECT_GE(took, 250ms);
}

TEST(smtp_mailer, gives_up_after_the_last_try) {
  smtp_sink sink({.fail_first = 100, .fail_code = 421});
  auto out = mailer_send(sink.url(), quick(3), {hello()}, 1);
  EXPECT_EQ(out.delivered, 0u);
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(sink.connections(), 3);
  EXPECT_TRUE(sink.messages().empty());
}

TEST(smtp_mailer, a_permanent_failure_is_not_tried_again) {
  smtp_sink sink({.fail_first = 100, .fail_code = 550});
  auto out = mailer_send(sink.url(), quick(4), {hello()}, 1);
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(sink.connections(), 1);
}

TEST(smtp_mailer, an_unreachable_server_fails_after_the_tries) {
  unsigned short port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto out = mailer_send("smtp://127.0.0.1:" + std::to_string(port), quick(2), {hello()}, 1);
  EXPECT_EQ(out.delivered, 0u);
  EXPECT_EQ(out.failed, 1u);
}

TEST(smtp_mailer, a_header_with_a_line_break_is_refused_and_nothing_is_sent) {
  smtp_sink sink;
  mail_message injected{"ann@example.com", "Hi\r\nBcc: victim@example.com", "x"};
  mail_message two_recipients{"ann@example.com\r\nRCPT TO:<victim@example.com>", "Hi", "x"};
  auto out = mailer_send(sink.url(), quick(), {injected, two_recipients, hello()}, 1);
  EXPECT_EQ(out.refusals, (std::vector<reel::errc>{reel::errc::bad_request, reel::errc::bad_request}));
  EXPECT_EQ(out.delivered, 1u);
  ASSERT_EQ(sink.messages().size(), 1u);
  EXPECT_EQ(sink.messages()[0].rcpt_to, std::vector<std::string>{"ann@example.com"});
  EXPECT_EQ(sink.messages()[0].data.find("victim"), std::string::npos);
}

TEST(smtp_mailer, a_full_queue_refuses_with_unavailable) {
  smtp_sink sink({.silent = true});
  auto settings = quick(1);
  settings.queue_capacity = 2;
  settings.connections = 1;
  settings.smtp.command_timeout = 200ms;
  auto out = mailer_send(sink.url(), settings, {hello(), hello(), hello()}, 2);
  EXPECT_EQ(out.refusals, std::vector<reel::errc>{reel::errc::unavailable});
  EXPECT_EQ(out.failed, 2u);  // the silent server let both time out
}

TEST(smtp_mailer, a_bad_from_address_is_refused_at_construction) {
  asio::io_context io;
  auto settings = quick();
  settings.from = "not an address";
  EXPECT_THROW(
      smtp_mailer(io.get_executor(), wall_clock(), parse_smtp_url("smtp://127.0.0.1:25"), tls_context(), settings),
      std::invalid_argument);
}
