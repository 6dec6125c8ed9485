#include "realtime/packets.hpp"

#include <gtest/gtest.h>

using namespace reel::realtime;

TEST(engineio_packets, a_payload_splits_at_the_record_separator) {
  std::string_view body =
      "40\x1e"
      "3\x1e"
      "42[\"a\"]";
  EXPECT_EQ(next_payload_packet(body), "40");
  EXPECT_EQ(next_payload_packet(body), "3");
  EXPECT_EQ(next_payload_packet(body), "42[\"a\"]");
  EXPECT_TRUE(body.empty());
}

TEST(engineio_packets, only_the_types_a_client_sends_are_accepted) {
  EXPECT_EQ(parse_eio_packet("42[\"x\"]")->type, eio_packet::kind::message);
  EXPECT_EQ(parse_eio_packet("42[\"x\"]")->data, "2[\"x\"]");
  EXPECT_EQ(parse_eio_packet("3")->type, eio_packet::kind::pong);
  EXPECT_EQ(parse_eio_packet("1")->type, eio_packet::kind::close);
  EXPECT_EQ(parse_eio_packet("6")->type, eio_packet::kind::noop);
  EXPECT_FALSE(parse_eio_packet(""));
  EXPECT_FALSE(parse_eio_packet("2"));  // ping is the server's in v4
  EXPECT_FALSE(parse_eio_packet("0"));
  EXPECT_FALSE(parse_eio_packet("x"));
}

TEST(socketio_packets, the_namespace_is_split_off_up_to_its_comma) {
  auto p = parse_sio_packet("2/chat,7[\"x\"]");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, '2');
  EXPECT_EQ(p->nsp, "/chat");
  EXPECT_EQ(p->rest, "7[\"x\"]");
  auto plain = parse_sio_packet("0{\"token\":\"t\"}");
  EXPECT_EQ(plain->nsp, "/");
  EXPECT_EQ(plain->rest, "{\"token\":\"t\"}");
  EXPECT_EQ(parse_sio_packet("0/admin")->nsp, "/admin");
  EXPECT_EQ(parse_sio_packet("0/admin")->rest, "");
  EXPECT_FALSE(parse_sio_packet(""));
}

TEST(socketio_packets, connect_auth_takes_the_strings_it_names) {
  auto a = parse_connect_auth(R"({"token":"t1","organizationId":"o1","extra":1})");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->token, "t1");
  EXPECT_EQ(a->organization_id, "o1");
  auto none = parse_connect_auth("");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->token);
  EXPECT_FALSE(parse_connect_auth(R"({"token":5})")->token);
  EXPECT_FALSE(parse_connect_auth("[1]"));
  EXPECT_FALSE(parse_connect_auth("{"));
}

TEST(socketio_packets, an_event_has_a_name_and_at_most_nine_ack_digits) {
  auto e = parse_event(R"(12["hello",{"a":1}])");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ack, "12");
  EXPECT_EQ(e->args.size(), 2u);
  EXPECT_EQ(parse_event(R"(["x"])")->ack, "");
  EXPECT_TRUE(parse_event(R"(999999999["x"])"));
  EXPECT_FALSE(parse_event(R"(1234567890["x"])"));
  EXPECT_FALSE(parse_event("[1]"));
  EXPECT_FALSE(parse_event("[]"));
  EXPECT_FALSE(parse_event("{}"));
}
