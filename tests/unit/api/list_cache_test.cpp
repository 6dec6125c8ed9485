#include "api/caches.hpp"

#include <gtest/gtest.h>

#include <thread>

using reel::api::list_cache;
using namespace std::chrono_literals;

TEST(list_cache, serves_a_body_until_its_organization_changes) {
  list_cache c(10s);
  auto g = c.generation("org1");
  c.put("org1|a", "org1", g, "page A");
  c.put("org2|a", "org2", c.generation("org2"), "page B");
  ASSERT_NE(c.find("org1|a", "org1"), nullptr);
  EXPECT_EQ(*c.find("org1|a", "org1"), "page A");
  c.changed("org1");
  EXPECT_EQ(c.find("org1|a", "org1"), nullptr);
  EXPECT_NE(c.find("org2|a", "org2"), nullptr);  // another organization keeps its lists
}

TEST(list_cache, a_body_read_before_a_change_is_never_stored) {
  list_cache c(10s);
  auto g = c.generation("org1");  // the query starts...
  c.changed("org1");              // ...a change commits meanwhile...
  c.put("org1|a", "org1", g, "stale page");
  EXPECT_EQ(c.find("org1|a", "org1"), nullptr);  // ...so its answer is not kept
}

TEST(list_cache, entries_expire_after_the_ttl_and_zero_disables) {
  list_cache c(30ms);
  c.put("k", "o", c.generation("o"), "body");
  EXPECT_NE(c.find("k", "o"), nullptr);
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(c.find("k", "o"), nullptr);
  EXPECT_FALSE(list_cache(0ms).enabled());
  EXPECT_TRUE(list_cache(1ms).enabled());
}
