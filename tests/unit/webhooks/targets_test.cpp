#include "webhooks/targets.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace reel::webhooks;
using std::chrono::milliseconds;
namespace ip = boost::asio::ip;

namespace {
std::optional<std::string> reason(const char* address) { return private_address_reason(ip::make_address(address)); }
}  // namespace

TEST(webhook_targets, every_refused_ipv4_range_is_refused_at_both_ends) {
  struct range {
    const char *first, *last, *words;
  };
  const range ranges[] = {
      {"0.0.0.0", "0.255.255.255", "unspecified"},
      {"127.0.0.0", "127.255.255.255", "loopback"},
      {"10.0.0.0", "10.255.255.255", "private"},
      {"172.16.0.0", "172.31.255.255", "private"},
      {"192.168.0.0", "192.168.255.255", "private"},
      {"169.254.0.0", "169.254.255.255", "link-local"},
      {"100.64.0.0", "100.127.255.255", "carrier-grade NAT"},
      {"192.0.0.0", "192.0.0.255", "reserved"},
      {"198.18.0.0", "198.19.255.255", "reserved"},
      {"224.0.0.0", "239.255.255.255", "multicast"},
      {"240.0.0.0", "255.255.255.255", "reserved"},
  };
  for (const auto& r : ranges) {
    for (const char* a : {r.first, r.last}) {
      auto why = reason(a);
      ASSERT_TRUE(why) << a;
      EXPECT_NE(why->find(r.words), std::string::npos) << a << ": " << *why;
    }
  }
  EXPECT_EQ(*reason("169.254.169.254"), "the cloud metadata address");
}

TEST(webhook_targets, addresses_just_outside_the_refused_ranges_are_public) {
  for (const char* a :
       {"1.0.0.0", "9.255.255.255", "11.0.0.0", "126.255.255.255", "128.0.0.0", "172.15.255.255", "172.32.0.0",
        "192.167.255.255", "192.169.0.0", "169.253.255.255", "169.255.0.0", "100.63.255.255", "100.128.0.0",
        "198.17.255.255", "198.20.0.0", "223.255.255.255", "8.8.8.8", "2001:4860:4860::8888", "2606:4700::1111"})
    EXPECT_FALSE(reason(a)) << a << ": " << reason(a).value_or("");
}

TEST(webhook_targets, ipv6_ranges_and_embedded_ipv4_are_refused) {
  EXPECT_NE(reason("::")->find("unspecified"), std::string::npos);
  EXPECT_NE(reason("::1")->find("loopback"), std::string::npos);
  EXPECT_NE(reason("fc00::1")->find("private"), std::string::npos);
  EXPECT_NE(reason("fdff:ffff::1")->find("private"), std::string::npos);
  EXPECT_NE(reason("fe80::1")->find("link-local"), std::string::npos);
  EXPECT_NE(reason("febf:ffff::1")->find("link-local"), std::string::npos);
  EXPECT_NE(reason("fec0::1")->find("site-local"), std::string::npos);
  EXPECT_NE(reason("ff02::1")->find("multicast"), std::string::npos);
  // IPv4-mapped and NAT64 addresses are judged by the IPv4 address inside.
  EXPECT_NE(reason("::ffff:127.0.0.1")->find("loopback"), std::string::npos);
  EXPECT_EQ(*reason("::ffff:169.254.169.254"), "the cloud metadata address");
  EXPECT_NE(reason("::ffff:10.1.2.3")->find("private"), std::string::npos);
  EXPECT_NE(reason("64:ff9b::7f00:1")->find("loopback"), std::string::npos);
  EXPECT_FALSE(reason("::ffff:8.8.8.8"));
  EXPECT_FALSE(reason("64:ff9b::808:808"));
}

TEST(webhook_targets, urls_are_taken_apart) {
  auto u = parse_target_url("https://hooks.example.com/reel?x=1");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "hooks.example.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/reel?x=1");
  auto v = parse_target_url("HTTP://127.0.0.1:8080");
  EXPECT_FALSE(v.tls);
  EXPECT_EQ(v.host, "127.0.0.1");
  EXPECT_EQ(v.port, "8080");
  EXPECT_EQ(v.target, "/");
  auto w = parse_target_url("http://[::1]:9/h");
  EXPECT_EQ(w.host, "::1");
  EXPECT_EQ(w.port, "9");
  EXPECT_EQ(parse_target_url("http://example.com?a").target, "/?a");
}

TEST(webhook_targets, bad_urls_are_refused_with_a_reason) {
  for (const char* bad :
       {"", "ftp://example.com/", "example.com/hook", "http://", "http://user:pw@example.com/",
        "http://user@example.com/", "http://example.com:0/", "http://example.com:65536/", "http://example.com:x/",
        "http://example.com:/", "http://exa mple.com/", "http://example.com/\n", "http://example.com/#frag",
        "http://[::1/", "http://[nope]/", "javascript:alert(1)", "file:///etc/passwd"})
    EXPECT_THROW(parse_target_url(bad), std::invalid_argument) << bad;
  std::string long_url = "https://example.com/" + std::string(k_max_url_length, 'a');
  EXPECT_THROW(parse_target_url(long_url), std::invalid_argument);
  try {
    parse_target_url("http://u:p@example.com/");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("password"), std::string::npos);
  }
}

TEST(webhook_targets, retry_schedules_parse) {
  EXPECT_EQ(parse_retry_schedule("5000,300000"), (std::vector<milliseconds>{milliseconds(5000), milliseconds(300000)}));
  EXPECT_EQ(parse_retry_schedule(" 1 , 2 ,3"),
            (std::vector<milliseconds>{milliseconds(1), milliseconds(2), milliseconds(3)}));
  EXPECT_EQ(default_retry_schedule().size(), 6u);
  EXPECT_EQ(default_retry_schedule().front(), milliseconds(5000));
  EXPECT_EQ(default_retry_schedule().back(), milliseconds(86'400'000));
}

TEST(webhook_targets, bad_retry_schedules_are_refused) {
  for (const char* bad : {"", ",", "5000,", ",5000", "5000,,1", "0", "-5", "1.5", "5s", "abc", "604800001",
                          "99999999999999999999999", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21"})
    EXPECT_THROW(parse_retry_schedule(bad), std::invalid_argument) << bad;
}

TEST(webhook_targets, retry_delays_follow_the_schedule_with_twenty_percent_jitter) {
  std::vector<milliseconds> s{milliseconds(1000), milliseconds(10000)};
  EXPECT_EQ(retry_delay(s, 1, 0.5), milliseconds(1000));
  EXPECT_EQ(retry_delay(s, 1, 0.0), milliseconds(800));
  EXPECT_EQ(retry_delay(s, 2, 0.0), milliseconds(8000));
  EXPECT_GE(retry_delay(s, 2, 0.999999)->count(), 11999);
  EXPECT_LE(retry_delay(s, 2, 0.999999)->count(), 12000);
  EXPECT_FALSE(retry_delay(s, 3, 0.5));  // exhausted: attempt 3 failed, no retry left
  EXPECT_FALSE(retry_delay(s, 0, 0.5));
}
