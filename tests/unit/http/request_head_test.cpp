#include "http/request_head.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace reel;
using namespace reel::http;

namespace {
beast_http::request_header<> head_with_te(std::string_view te) {
  beast_http::request_header<> h;
  h.method(verb::put);
  h.target("/x");
  h.version(11);
  h.set(field::transfer_encoding, te);
  return h;
}
}  // namespace

TEST(request_head, framing_allows_exactly_chunked) {
  EXPECT_EQ(framing_problem(head_with_te("chunked")), std::nullopt);
  EXPECT_EQ(framing_problem(head_with_te(" Chunked ")), std::nullopt);
  EXPECT_TRUE(framing_problem(head_with_te("gzip, chunked")));
  auto h = head_with_te("chunked");
  h.set(field::content_length, "5");
  EXPECT_TRUE(framing_problem(h));
  h = head_with_te("chunked");
  h.version(10);
  EXPECT_TRUE(framing_problem(h));
}

// Found by fuzz/router.cpp: the refused Transfer-Encoding was echoed as sent,
// so a byte like 0xB8 made the 400's JSON body invalid UTF-8.
TEST(request_head, a_refused_transfer_encoding_is_echoed_as_printable_ascii) {
  auto problem =
      framing_problem(head_with_te("\xb8"
                                   "ed\x01"));
  ASSERT_TRUE(problem);
  EXPECT_TRUE(std::all_of(problem->begin(), problem->end(), [](char c) { return c >= 0x20 && c <= 0x7e; }));
  EXPECT_NE(problem->find("\"?ed?\""), std::string::npos);
}
