#include "mail/smtp_reply.hpp"

#include <gtest/gtest.h>

using namespace reel::mail;

TEST(smtp_reply, a_multiline_reply_ends_at_its_space_line) {
  smtp_reply r;
  EXPECT_EQ(add_reply_line(r, "250-mail.example\r\n"), reply_line::more);
  EXPECT_EQ(add_reply_line(r, "250-STARTTLS\r\n"), reply_line::more);
  EXPECT_EQ(add_reply_line(r, "250 AUTH PLAIN\r\n"), reply_line::last);
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"mail.example", "STARTTLS", "AUTH PLAIN"}));
}

TEST(smtp_reply, a_bare_code_is_a_whole_reply) {
  smtp_reply r;
  EXPECT_EQ(add_reply_line(r, "354\n"), reply_line::last);
  EXPECT_EQ(r.code, 354);
  EXPECT_EQ(r.lines, (std::vector<std::string>{""}));
}

TEST(smtp_reply, malformed_lines_and_changed_codes_are_refused) {
  smtp_reply r;
  EXPECT_EQ(add_reply_line(r, "25\r\n"), reply_line::malformed);
  EXPECT_EQ(add_reply_line(r, "2x0 hi\r\n"), reply_line::malformed);
  EXPECT_EQ(add_reply_line(r, "250hi\r\n"), reply_line::malformed);
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(add_reply_line(r, "250-a\r\n"), reply_line::more);
  EXPECT_EQ(add_reply_line(r, "251 b\r\n"), reply_line::code_changed);
  EXPECT_EQ(r.lines.size(), 1u);
}
