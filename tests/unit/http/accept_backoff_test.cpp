#include "http/accept_backoff.hpp"

#include <gtest/gtest.h>

using reel::http::accept_backoff;
using namespace std::chrono_literals;

TEST(accept_backoff, waits_10_ms_doubling_to_1_s_and_starts_over_after_a_success) {
  accept_backoff b;
  accept_backoff::time_point t{};
  std::vector<long> waits;
  for (int i = 0; i < 10; ++i) waits.push_back(b.failed(t).wait.count());
  EXPECT_EQ(waits, (std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
  EXPECT_EQ(b.succeeded(), 10u);
  EXPECT_EQ(b.failed(t).wait, 10ms);
}

TEST(accept_backoff, logs_the_first_failure_then_one_line_per_interval_with_the_count_not_logged) {
  accept_backoff b(10ms, 1s, 5s);
  accept_backoff::time_point t{};
  auto first = b.failed(t);
  EXPECT_TRUE(first.log);
  EXPECT_EQ(first.suppressed, 0u);
  int logged = 0;
  for (int i = 1; i <= 40; ++i) logged += b.failed(t + i * 100ms).log;  // 4 s of failures
  EXPECT_EQ(logged, 0);
  auto next = b.failed(t + 5s);
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 40u);
  EXPECT_FALSE(b.failed(t + 6s).log);
}

TEST(accept_backoff, a_success_says_how_many_failed_and_the_next_failure_is_logged_again) {
  accept_backoff b;
  accept_backoff::time_point t{};
  EXPECT_EQ(b.succeeded(), 0u);  // nothing to report
  b.failed(t);
  b.failed(t + 10ms);
  EXPECT_EQ(b.succeeded(), 2u);
  EXPECT_EQ(b.succeeded(), 0u);
  EXPECT_TRUE(b.failed(t + 20ms).log);
}
