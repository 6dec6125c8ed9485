#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <vector>

using reel::ip_network;
using reel::parse_ip_network;
using reel::http::client_address;
namespace ip = boost::asio::ip;

namespace {

std::vector<ip_network> networks(std::initializer_list<const char*> texts) {
  std::vector<ip_network> out;
  for (const char* t : texts) out.push_back(*parse_ip_network(t));
  return out;
}

std::string from(const char* peer, const char* forwarded, const std::vector<ip_network>& trusted) {
  return client_address(ip::make_address(peer), forwarded, trusted);
}

}  // namespace

TEST(client_address, without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards) {
  EXPECT_EQ(from("203.0.113.7", "198.51.100.1", {}), "203.0.113.7");
  EXPECT_EQ(from("::ffff:203.0.113.7", "", {}), "203.0.113.7");
  auto lb = networks({"10.0.0.0/8"});
  EXPECT_EQ(from("203.0.113.7", "198.51.100.1", lb), "203.0.113.7");  // not from the proxy
}

TEST(client_address, behind_trusted_proxies_it_is_the_right_most_untrusted_entry) {
  auto lb = networks({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(from("10.0.0.2", "198.51.100.1", lb), "198.51.100.1");
  // The left-most entries are the client's own word.
  EXPECT_EQ(from("10.0.0.2", "1.2.3.4, 198.51.100.1", lb), "198.51.100.1");
  // Trusted hops are skipped.
  EXPECT_EQ(from("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.9.9.9", lb), "198.51.100.1");
  EXPECT_EQ(from("fd00::2", "2001:db8::5,fd00::9", lb), "2001:db8::5");
  // Ports and brackets.
  EXPECT_EQ(from("10.0.0.2", "198.51.100.1:4711", lb), "198.51.100.1");
  EXPECT_EQ(from("10.0.0.2", "[2001:db8::5]:4711", lb), "2001:db8::5");
  // Nothing forwarded, or only proxies: the last trusted hop.
  EXPECT_EQ(from("10.0.0.2", "", lb), "10.0.0.2");
  EXPECT_EQ(from("10.0.0.2", "10.0.0.3", lb), "10.0.0.3");
  // Junk stops the walk at the last hop that can be believed.
  EXPECT_EQ(from("10.0.0.2", "198.51.100.1, junk", lb), "10.0.0.2");
  EXPECT_EQ(from("10.0.0.2", "junk, 198.51.100.1", lb), "198.51.100.1");
  EXPECT_EQ(from("10.0.0.2", " , 198.51.100.1 ,", lb), "198.51.100.1");
}

TEST(client_address, every_forwarded_header_of_a_request_counts_in_order) {
  reel::http::context ctx;
  ctx.remote = ip::tcp::endpoint(ip::make_address("10.0.0.2"), 5000);
  ctx.req.insert("X-Forwarded-For", "1.2.3.4, 198.51.100.1");
  ctx.req.insert("X-Forwarded-For", "198.51.100.2");
  EXPECT_EQ(client_address(ctx, networks({"10.0.0.0/8"})), "198.51.100.2");
  EXPECT_EQ(client_address(ctx, networks({"10.0.0.0/8", "198.51.100.2"})), "198.51.100.1");
  EXPECT_EQ(client_address(ctx, {}), "10.0.0.2");
}
