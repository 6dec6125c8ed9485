#include "core/ip_network.hpp"

#include <gtest/gtest.h>

using reel::parse_ip_network;
namespace ip = boost::asio::ip;

TEST(ip_network, parses_addresses_and_cidr_networks) {
  auto one = parse_ip_network("10.1.2.3");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->prefix, 32u);
  auto net = parse_ip_network("10.1.2.3/8");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->base.to_string(), "10.0.0.0");
  EXPECT_EQ(net->prefix, 8u);
  auto v6 = parse_ip_network("2001:db8::1/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->base.to_string(), "2001:db8::");
  EXPECT_EQ(parse_ip_network("::1")->prefix, 128u);
  EXPECT_EQ(parse_ip_network("::ffff:10.0.0.1")->base.to_string(), "10.0.0.1");  // v4-mapped counts as v4
}

TEST(ip_network, refuses_what_is_not_an_address_or_a_sane_prefix) {
  for (const char* bad : {"", "localhost", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/8 ",
                          " 10.0.0.1", "10.0.0.256", "fe80::1%eth0", "10.0.0.0/-1"})
    EXPECT_FALSE(parse_ip_network(bad)) << bad;
}

TEST(ip_network, contains_the_addresses_under_its_prefix) {
  auto net = *parse_ip_network("192.168.4.0/22");
  EXPECT_TRUE(net.contains(ip::make_address("192.168.4.1")));
  EXPECT_TRUE(net.contains(ip::make_address("192.168.7.255")));
  EXPECT_FALSE(net.contains(ip::make_address("192.168.8.0")));
  EXPECT_TRUE(net.contains(ip::make_address("::ffff:192.168.5.5")));
  EXPECT_FALSE(net.contains(ip::make_address("::1")));
  auto all = *parse_ip_network("0.0.0.0/0");
  EXPECT_TRUE(all.contains(ip::make_address("8.8.8.8")));
  auto v6 = *parse_ip_network("fd00::/8");
  EXPECT_TRUE(v6.contains(ip::make_address("fd12:3456::1")));
  EXPECT_FALSE(v6.contains(ip::make_address("fe80::1")));
  EXPECT_FALSE(v6.contains(ip::make_address("10.0.0.1")));
}
