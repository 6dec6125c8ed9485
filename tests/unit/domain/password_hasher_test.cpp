// Password hashing on its own bounded executor: the policy before hashing,
// and a full queue answered at once with 503 rather than waited out.
#include "domain/password_hasher.hpp"

#include "core/clock.hpp"
#include "core/errors.hpp"
#include "domain/coordination.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

using namespace reel;
namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(password_hasher, refuses_a_weak_new_password_naming_the_field_and_why) {
  domain::password_hasher h({.threads = 1, .queue = 1, .cost = {1, 8 << 10}});
  try {
    test::run(h.hash_new("P@ssw0rd", "ann@example.com", "Ann", "newPassword"));
    FAIL() << "accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), errc::bad_request);
    EXPECT_NE(std::string(e.what()).find("\"newPassword\" is too easy to guess: it is based on a dictionary word"),
              std::string::npos)
        << e.what();
  }
  auto hash = test::run(h.hash_new("correct horse", "ann@example.com", "Ann"));
  EXPECT_TRUE(test::run(h.verify(hash, "correct horse")));
  EXPECT_FALSE(test::run(h.verify(hash, "correct horsE")));
  EXPECT_EQ(h.in_flight(), 0u);
}

TEST(password_hasher, a_full_queue_is_refused_at_once_with_retry_after) {
  // One thread, one waiting: of five at once, two run or wait, three are refused.
  domain::password_hasher h({.threads = 1, .queue = 1, .cost = {2, 32 << 20}});
  int done = 0, refused = 0;
  std::optional<std::chrono::seconds> retry;
  test::run([&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    auto remaining = std::make_shared<int>(5);
    asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
    for (int i = 0; i < 5; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            try {
              co_await h.hash_any("correct horse");
              ++done;
            } catch (const error& e) {
              EXPECT_EQ(e.code(), errc::unavailable);
              retry = e.retry_after();
              ++refused;
            }
            if (--*remaining == 0) all_done.cancel();
          },
          asio::detached);
    }
    EXPECT_EQ(h.in_flight(), 2u);
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }());
  EXPECT_EQ(done, 2);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(h.refused(), 3u);
  ASSERT_TRUE(retry);
  EXPECT_GE(retry->count(), 1);
  EXPECT_EQ(h.in_flight(), 0u);  // every slot given back
  EXPECT_NO_THROW(test::run(h.hash_any("correct horse")));
}

TEST(rate_limiter, refuses_past_the_limit_until_the_oldest_leaves_the_window) {
  manual_clock clock;
  domain::local_rate_limiter r(clock);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(test::run(r.take("k", 3, 3600s)));
    clock.advance(10s);
  }
  auto wait = test::run(r.take("k", 3, 3600s));
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 3600s - 30s);
  EXPECT_FALSE(test::run(r.take("other", 3, 3600s)));  // keys are apart
  EXPECT_FALSE(test::run(r.take("k", 0, 3600s)));      // 0: no limit
  clock.advance(3600s - 30s);
  EXPECT_FALSE(test::run(r.take("k", 3, 3600s)));  // the first left the window
  EXPECT_TRUE(test::run(r.take("k", 3, 3600s)));   // refusals were not counted
}

TEST(rate_limiter, memory_stays_bounded_under_a_flood_of_keys) {
  manual_clock clock;
  domain::local_rate_limiter r(clock, 100);
  for (int i = 0; i < 10'000; ++i) r.take_now("k" + std::to_string(i), 1, 3600s);
  EXPECT_TRUE(r.take_now("k9999", 1, 3600s));  // the newest is still counted
}
