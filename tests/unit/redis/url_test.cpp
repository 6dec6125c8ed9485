#include "redis/client.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace reel::redis;

namespace {

// The message parse_url throws for `text` ("" when it accepts it).
std::string url_refusal(std::string_view text) {
  try {
    parse_url(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(redis_url, host_alone_takes_the_default_port_and_database) {
  auto u = parse_url("redis://localhost");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_FALSE(u.password);
  EXPECT_FALSE(u.username);
  EXPECT_FALSE(u.is_unix());
  EXPECT_EQ(u.describe(), "localhost:6379");
}

TEST(redis_url, host_port_and_database) {
  auto u = parse_url("redis://10.0.0.5:6380/3");
  EXPECT_EQ(u.host, "10.0.0.5");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 3);
  EXPECT_EQ(u.describe(), "10.0.0.5:6380/3");
  EXPECT_EQ(parse_url("redis://h:1/").db, 0);
  EXPECT_EQ(parse_url("REDIS://h").host, "h");
}

TEST(redis_url, password_with_or_without_a_user) {
  auto u = parse_url("redis://:s3cret@cache:6379/1");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_FALSE(u.username);
  EXPECT_EQ(u.host, "cache");
  EXPECT_EQ(u.db, 1);
  EXPECT_EQ(u.describe().find("s3cret"), std::string::npos);

  auto v = parse_url("redis://reel:p%40ss%3Aword@cache");
  EXPECT_EQ(v.username, "reel");
  EXPECT_EQ(v.password, "p@ss:word");
  EXPECT_EQ(v.host, "cache");
}

TEST(redis_url, ipv6_in_brackets) {
  auto u = parse_url("redis://[::1]:7000/2");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.describe(), "[::1]:7000/2");
  EXPECT_EQ(parse_url("redis://[fe80::1]").port, 6379);
}

TEST(redis_url, unix_socket_with_database_and_password) {
  auto u = parse_url("unix:///run/redis/redis.sock");
  EXPECT_TRUE(u.is_unix());
  EXPECT_EQ(u.unix_path, "/run/redis/redis.sock");
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.describe(), "unix:/run/redis/redis.sock");

  auto v = parse_url("unix:///tmp/r.sock?db=4&password=pw");
  EXPECT_EQ(v.unix_path, "/tmp/r.sock");
  EXPECT_EQ(v.db, 4);
  EXPECT_EQ(v.password, "pw");
  EXPECT_EQ(v.describe(), "unix:/tmp/r.sock?db=4");

  auto w = parse_url("unix://:pw@/tmp/r.sock");
  EXPECT_EQ(w.password, "pw");
  EXPECT_EQ(w.unix_path, "/tmp/r.sock");
}

TEST(redis_url, bad_urls_are_refused_with_a_reason) {
  EXPECT_NE(url_refusal("localhost:6379").find("expected redis://"), std::string::npos);
  EXPECT_NE(url_refusal("http://host").find("unknown scheme"), std::string::npos);
  EXPECT_NE(url_refusal("rediss://host").find("TLS"), std::string::npos);
  EXPECT_NE(url_refusal("redis://").find("no host"), std::string::npos);
  EXPECT_NE(url_refusal("redis://:6379").find("no host"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host:").find("empty port"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host:0").find("port"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host:65536").find("port"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host:abc").find("port"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host/x").find("database"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host/-1").find("database"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host/1/2").find("path"), std::string::npos);
  EXPECT_NE(url_refusal("redis://host?timeout=3").find("unknown parameter"), std::string::npos);
  EXPECT_NE(url_refusal("redis://justuser@host").find(":password"), std::string::npos);
  EXPECT_NE(url_refusal("redis://:p%zz@host").find("%-escape"), std::string::npos);
  EXPECT_NE(url_refusal("redis://[::1").find("IPv6"), std::string::npos);
  EXPECT_NE(url_refusal("redis://::1:6379").find("not a name or address"), std::string::npos);
  EXPECT_NE(url_refusal("unix://relative/path").find("absolute path"), std::string::npos);
  EXPECT_NE(url_refusal("unix://").find("absolute path"), std::string::npos);
  EXPECT_NE(url_refusal("unix:///tmp/s?db=x").find("database"), std::string::npos);
  EXPECT_NE(url_refusal("unix:///" + std::string(200, 'a')).find("longer than"), std::string::npos);
}

TEST(redis_url, a_refusal_never_repeats_the_password) {
  std::string why = url_refusal("redis://user:hunter2@host:99999");
  EXPECT_NE(why.find("port"), std::string::npos);
  EXPECT_EQ(why.find("hunter2"), std::string::npos) << why;
  why = url_refusal("unix:///tmp/s?password=hunter2&db=x");
  EXPECT_NE(why.find("database"), std::string::npos);
  EXPECT_EQ(why.find("hunter2"), std::string::npos) << why;
}
