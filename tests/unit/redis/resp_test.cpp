#include "redis/resp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace reel::redis;
using namespace std::string_literals;

namespace {

// Every value `input` holds, fed at once.
std::vector<value> parse_all(std::string_view input, parser_limits limits = {}) {
  parser p(limits);
  p.feed(input);
  std::vector<value> out;
  while (auto v = p.next()) out.push_back(std::move(*v));
  return out;
}

value parse_one(std::string_view input) {
  auto all = parse_all(input);
  EXPECT_EQ(all.size(), 1u) << input;
  return all.empty() ? value{} : all.front();
}

// Feeds `input` and drains the parser, so that a protocol_error surfaces.
void feed_and_drain(std::string_view input, parser_limits limits = {}) { parse_all(input, limits); }

}  // namespace

TEST(resp_parser, reads_every_scalar_type) {
  EXPECT_EQ(parse_one("+OK\r\n"), value::simple("OK"));
  EXPECT_EQ(parse_one("-ERR unknown command\r\n"), value::error("ERR unknown command"));
  EXPECT_EQ(parse_one(":42\r\n"), value::number(42));
  EXPECT_EQ(parse_one(":-9223372036854775808\r\n"), value::number(INT64_MIN));
  EXPECT_EQ(parse_one("$5\r\nhello\r\n"), value::bulk("hello"));
  EXPECT_EQ(parse_one("$0\r\n\r\n"), value::bulk(""));
  EXPECT_EQ(parse_one("+\r\n"), value::simple(""));
}

TEST(resp_parser, a_bulk_string_is_binary_safe) {
  auto v = parse_one("$6\r\na\r\nb\0c\r\n"s);
  EXPECT_TRUE(v.is_string());
  EXPECT_EQ(v.text, "a\r\nb\0c"s);
}

TEST(resp_parser, nil_bulk_and_nil_array_are_nil) {
  EXPECT_TRUE(parse_one("$-1\r\n").is_nil());
  EXPECT_TRUE(parse_one("*-1\r\n").is_nil());
}

TEST(resp_parser, reads_nested_arrays_with_every_type_inside) {
  auto v = parse_one("*3\r\n*2\r\n:1\r\n$1\r\nx\r\n*0\r\n*4\r\n+s\r\n-E\r\n$-1\r\n*1\r\n*1\r\n:7\r\n");
  auto expected = value::array({
      value::array({value::number(1), value::bulk("x")}),
      value::array({}),
      value::array(
          {value::simple("s"), value::error("E"), value::nil(), value::array({value::array({value::number(7)})})}),
  });
  EXPECT_EQ(v, expected);
}

TEST(resp_parser, several_values_in_one_feed_come_out_in_order) {
  auto all = parse_all("+a\r\n:1\r\n$1\r\nb\r\n*1\r\n+c\r\n");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], value::simple("a"));
  EXPECT_EQ(all[1], value::number(1));
  EXPECT_EQ(all[2], value::bulk("b"));
  EXPECT_EQ(all[3], value::array({value::simple("c")}));
}

TEST(resp_parser, byte_at_a_time_gives_the_same_values) {
  std::string input = "*2\r\n$3\r\nfoo\r\n*2\r\n:12\r\n$-1\r\n+OK\r\n-ERR x\r\n$4\r\n\r\n\r\n\r\n";
  parser p;
  std::vector<value> out;
  for (char c : input) {
    p.feed(std::string_view(&c, 1));
    while (auto v = p.next()) out.push_back(std::move(*v));
  }
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], value::array({value::bulk("foo"), value::array({value::number(12), value::nil()})}));
  EXPECT_EQ(out[1], value::simple("OK"));
  EXPECT_EQ(out[2], value::error("ERR x"));
  EXPECT_EQ(out[3], value::bulk("\r\n\r\n"));
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(resp_parser, an_incomplete_value_waits_for_more_bytes) {
  parser p;
  p.feed("*2\r\n$3\r\nfo");
  EXPECT_FALSE(p.next());
  p.feed("o\r\n:5");
  EXPECT_FALSE(p.next());
  p.feed("\r");
  EXPECT_FALSE(p.next());
  p.feed("\n+next");
  EXPECT_EQ(p.next(), value::array({value::bulk("foo"), value::number(5)}));
  EXPECT_FALSE(p.next());
  p.feed("\r\n");
  EXPECT_EQ(p.next(), value::simple("next"));
}

TEST(resp_parser, a_big_bulk_fed_byte_at_a_time_is_linear) {
  const std::size_t size = 4 << 20;
  std::string input = "$" + std::to_string(size) + "\r\n" + std::string(size, 'x') + "\r\n";
  parser p;
  auto started = std::chrono::steady_clock::now();
  std::optional<value> v;
  for (char c : input) {
    p.feed(std::string_view(&c, 1));
    if (auto got = p.next()) v = std::move(got);
  }
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text.size(), size);
  // Linear: well under a second even under sanitizers; quadratic would take hours.
  EXPECT_LT(took, std::chrono::seconds(20));
}

TEST(resp_parser, many_small_values_fed_together_are_all_read) {
  std::string input;
  for (int i = 0; i < 10000; ++i) input += ":" + std::to_string(i) + "\r\n";
  parser p;
  int expected = 0;
  for (std::size_t i = 0; i < input.size(); i += 777) {
    p.feed(std::string_view(input).substr(i, 777));
    while (auto v = p.next()) EXPECT_EQ(v->integer, expected++);
  }
  EXPECT_EQ(expected, 10000);
}

TEST(resp_parser, rejects_a_wrong_type_byte) {
  EXPECT_THROW(feed_and_drain("?OK\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("OK\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("\r\n"), protocol_error);
}

TEST(resp_parser, rejects_a_length_or_integer_that_is_not_a_number) {
  EXPECT_THROW(feed_and_drain("$abc\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("*1x\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("$\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain(":12a\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain(":+1\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain(":99999999999999999999\r\n"), protocol_error);
}

TEST(resp_parser, rejects_a_negative_length_other_than_minus_one) {
  EXPECT_THROW(feed_and_drain("$-2\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("*-5\r\n"), protocol_error);
}

TEST(resp_parser, rejects_a_bulk_or_an_array_over_the_limit) {
  parser_limits limits;
  limits.max_bulk = 10;
  limits.max_elements = 3;
  EXPECT_NO_THROW(feed_and_drain("$10\r\n0123456789\r\n", limits));
  EXPECT_THROW(feed_and_drain("$11\r\n", limits), protocol_error);
  EXPECT_NO_THROW(feed_and_drain("*3\r\n:1\r\n:2\r\n:3\r\n", limits));
  EXPECT_THROW(feed_and_drain("*4\r\n", limits), protocol_error);
  // The defaults: a huge claimed count is refused before anything is allocated.
  EXPECT_THROW(feed_and_drain("$9999999999\r\n"), protocol_error);
  EXPECT_THROW(feed_and_drain("*2000000000\r\n"), protocol_error);
}

TEST(resp_parser, rejects_a_bulk_not_followed_by_crlf) {
  EXPECT_THROW(feed_and_drain("$3\r\nabcXY"), protocol_error);
  EXPECT_THROW(feed_and_drain("$3\r\nabcd\r\n"), protocol_error);
  // Not there yet is not an error.
  EXPECT_NO_THROW(feed_and_drain("$3\r\nabc"));
  EXPECT_NO_THROW(feed_and_drain("$3\r\nabc\r"));
}

TEST(resp_parser, rejects_a_cr_not_followed_by_lf) { EXPECT_THROW(feed_and_drain("+OK\rX\n"), protocol_error); }

TEST(resp_parser, rejects_arrays_nested_deeper_than_the_limit) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "*1\r\n";
    return s + ":1\r\n";
  };
  EXPECT_NO_THROW(feed_and_drain(nested(8)));
  EXPECT_THROW(feed_and_drain(nested(9)), protocol_error);
  parser_limits shallow;
  shallow.max_depth = 2;
  EXPECT_THROW(feed_and_drain("*1\r\n*1\r\n*0\r\n", shallow), protocol_error);
}

TEST(resp_parser, rejects_a_line_too_long_without_crlf) {
  parser_limits limits;
  limits.max_line = 100;
  parser p(limits);
  p.feed("+" + std::string(99, 'a'));  // 100 bytes: at the limit
  EXPECT_FALSE(p.next());
  p.feed("a");
  EXPECT_THROW(p.next(), protocol_error);
  EXPECT_THROW(feed_and_drain("+" + std::string(200, 'a') + "\r\n", limits), protocol_error);
  // Fed one byte at a time, the limit is caught as soon as it is passed.
  parser q(limits);
  bool thrown = false;
  for (int i = 0; i < 1000 && !thrown; ++i) {
    q.feed("b");
    try {
      q.next();
    } catch (const protocol_error&) {
      thrown = true;
      EXPECT_LE(i, 101);
    }
  }
  EXPECT_TRUE(thrown);
}

TEST(resp_parser, reset_forgets_a_broken_stream) {
  parser p;
  p.feed("*2\r\n?bad\r\n");
  EXPECT_THROW(p.next(), protocol_error);
  p.reset();
  p.feed("+fine\r\n");
  EXPECT_EQ(p.next(), value::simple("fine"));
}

TEST(resp_encode, a_command_is_an_array_of_bulk_strings) {
  EXPECT_EQ(encode({"SET", "key", "value"}), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  std::vector<std::string> args{"GET", ""};
  EXPECT_EQ(encode(args), "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST(resp_encode, arguments_are_binary_safe_and_read_back_unchanged) {
  std::vector<std::string> args{"SET", "k\r\ney", "va\0l\r\nue\r\n"s, std::string(1, '\0')};
  std::string bytes = encode(args);
  EXPECT_EQ(bytes, "*4\r\n$3\r\nSET\r\n$5\r\nk\r\ney\r\n$10\r\nva\0l\r\nue\r\n\r\n$1\r\n\0\r\n"s);
  // The same bytes, read as a reply, give the arguments back.
  auto v = parse_one(bytes);
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.elements.size(), args.size());
  for (std::size_t i = 0; i < args.size(); ++i) EXPECT_EQ(v.elements[i].text, args[i]);
}

TEST(resp_encode, append_command_adds_to_a_batch) {
  std::string batch = "*1\r\n$4\r\nPING\r\n";
  std::vector<std::string> args{"ECHO", "hi"};
  append_command(batch, args);
  auto all = parse_all(batch);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1], value::array({value::bulk("ECHO"), value::bulk("hi")}));
}
