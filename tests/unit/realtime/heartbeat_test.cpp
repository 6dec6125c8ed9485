#include "realtime/heartbeat.hpp"

#include "support/common.hpp"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace reel::realtime;
using namespace std::chrono_literals;
using reel::test::strings;

namespace {

struct peer : heartbeat::member {
  explicit peer(std::string n) : name(std::move(n)) {}
  std::string name;
};

// A heartbeat on a clock that moves only when told to; what it does is
// written to `log` as "ping a", "timeout b".
struct heartbeat_fixture {
  boost::asio::io_context io;
  heartbeat::clock::time_point now{std::chrono::hours(1000)};
  std::vector<std::string> log;
  std::function<void(peer&)> on_ping = [](peer&) {};
  heartbeat hb{io,
               25s,
               20s,
               {.ping =
                    [this](heartbeat::member& m) {
                      log.push_back("ping " + static_cast<peer&>(m).name);
                      on_ping(static_cast<peer&>(m));
                    },
                .timed_out = [this](heartbeat::member& m) { log.push_back("timeout " + static_cast<peer&>(m).name); }},
               [this] { return now; }};

  void advance(std::chrono::milliseconds d) {
    now += d;
    hb.run_due();
  }
};

}  // namespace

TEST(heartbeat, first_ping_comes_one_interval_after_start) {
  heartbeat_fixture f;
  peer a("a");
  f.hb.start(a);
  f.advance(24'999ms);
  EXPECT_EQ(f.log, strings{});
  f.advance(1ms);
  EXPECT_EQ(f.log, strings{"ping a"});
  EXPECT_TRUE(a.awaiting_pong());
}

TEST(heartbeat, a_member_whose_pong_never_comes_times_out_after_the_ping_timeout) {
  heartbeat_fixture f;
  peer a("a");
  f.hb.start(a);
  f.advance(25s);
  f.advance(19'999ms);
  EXPECT_EQ(f.log, strings{"ping a"});
  f.advance(1ms);
  EXPECT_EQ(f.log, (strings{"ping a", "timeout a"}));
  EXPECT_EQ(f.hb.size(), 0u);  // it left the schedule
  f.advance(1h);
  EXPECT_EQ(f.log.size(), 2u);
}

TEST(heartbeat, a_member_that_answers_is_pinged_again_one_interval_after_its_pong) {
  heartbeat_fixture f;
  peer a("a");
  f.hb.start(a);
  f.advance(25s);
  f.advance(3s);
  f.hb.pong(a);
  EXPECT_FALSE(a.awaiting_pong());
  f.advance(24s);
  EXPECT_EQ(f.log, strings{"ping a"});  // not yet: 25 s after the pong
  f.advance(1s);
  EXPECT_EQ(f.log, (strings{"ping a", "ping a"}));
  for (int i = 0; i < 100; ++i) {  // answered at once, for a long time
    f.hb.pong(a);
    f.advance(25s);
  }
  EXPECT_EQ(f.log.size(), 102u);
  EXPECT_EQ(std::count(f.log.begin(), f.log.end(), "timeout a"), 0);
}

TEST(heartbeat, a_pong_nobody_asked_for_changes_nothing) {
  heartbeat_fixture f;
  peer a("a");
  f.hb.start(a);
  f.advance(20s);
  f.hb.pong(a);  // does not push the ping back
  f.advance(5s);
  EXPECT_EQ(f.log, strings{"ping a"});
}

TEST(heartbeat, stopped_or_destroyed_members_leave_the_schedule) {
  heartbeat_fixture f;
  peer a("a");
  auto b = std::make_unique<peer>("b");
  f.hb.start(a);
  f.hb.start(*b);
  EXPECT_EQ(f.hb.size(), 2u);
  f.hb.stop(a);
  b.reset();
  EXPECT_EQ(f.hb.size(), 0u);
  f.advance(1h);
  EXPECT_EQ(f.log, strings{});
}

TEST(heartbeat, members_are_served_in_deadline_order_whatever_the_mix_of_pings_and_timeouts) {
  heartbeat_fixture f;
  peer a("a"), b("b"), c("c");
  f.hb.start(a);  // ping at 25
  f.advance(10s);
  f.hb.start(b);   // ping at 35
  f.advance(15s);  // 25: a pinged, pong due at 45
  f.advance(5s);
  f.hb.start(c);   // ping at 55
  f.advance(5s);   // 35: b pinged, pong due at 55
  f.hb.pong(b);    // b's next ping at 60
  f.advance(10s);  // 45: a times out
  f.advance(10s);  // 55: c pinged
  f.advance(5s);   // 60: b pinged
  EXPECT_EQ(f.log, (strings{"ping a", "ping b", "timeout a", "ping c", "ping b"}));
}

TEST(heartbeat, a_ping_handler_may_destroy_members_including_its_own) {
  heartbeat_fixture f;
  auto a = std::make_unique<peer>("a");
  auto b = std::make_unique<peer>("b");
  f.hb.start(*a);
  f.hb.start(*b);
  f.on_ping = [&](peer& p) {
    if (p.name == "a") {
      b.reset();  // a send failed and closed another session, say
      a.reset();
    }
  };
  f.advance(25s);
  EXPECT_EQ(f.log, strings{"ping a"});
  EXPECT_EQ(f.hb.size(), 0u);
}

TEST(heartbeat, its_one_timer_drops_a_silent_member_and_keeps_one_that_answers) {
  boost::asio::io_context io;
  std::vector<std::string> log;
  struct member : heartbeat::member {
    std::string name;
  } silent, live;
  silent.name = "silent";
  live.name = "live";
  heartbeat* hbp = nullptr;
  heartbeat hb(io, 20ms, 30ms,
               {.ping =
                    [&](heartbeat::member& m) {
                      auto& p = static_cast<member&>(m);
                      log.push_back("ping " + p.name);
                      if (&p == &live) hbp->pong(p);
                    },
                .timed_out = [&](heartbeat::member& m) { log.push_back("timeout " + static_cast<member&>(m).name); }});
  hbp = &hb;
  hb.start(silent);
  hb.start(live);
  io.run_for(200ms);
  EXPECT_EQ(std::count(log.begin(), log.end(), "ping silent"), 1);
  EXPECT_EQ(std::count(log.begin(), log.end(), "timeout silent"), 1);
  EXPECT_GE(std::count(log.begin(), log.end(), "ping live"), 4);
  EXPECT_EQ(std::count(log.begin(), log.end(), "timeout live"), 0);
  EXPECT_EQ(hb.size(), 1u);
}

TEST(heartbeat, members_due_together_are_served_per_turn_earliest_first) {
  boost::asio::io_context io;
  auto now = heartbeat::clock::time_point{std::chrono::hours(1000)};
  std::vector<std::string> log;
  heartbeat hb(
      io, 25s, 20s,
      {.ping = [&](heartbeat::member& m) { log.push_back("ping " + static_cast<peer&>(m).name); },
       .timed_out = [&](heartbeat::member& m) { log.push_back("timeout " + static_cast<peer&>(m).name); }},
      [&] { return now; }, 2);
  peer a("a"), b("b"), c("c"), d("d"), e("e");
  for (peer* p : {&a, &b, &c, &d, &e}) hb.start(*p);
  now += 25s;
  hb.run_due();
  EXPECT_EQ(log, (strings{"ping a", "ping b"}));
  hb.run_due();
  EXPECT_EQ(log, (strings{"ping a", "ping b", "ping c", "ping d"}));
  hb.run_due();
  EXPECT_EQ(log.size(), 5u);
  EXPECT_EQ(log.back(), "ping e");
  // Their pong deadlines count from when each was pinged, all still 20 s.
  now += 20s;
  hb.run_due();
  hb.run_due();
  hb.run_due();
  EXPECT_EQ(std::count_if(log.begin(), log.end(), [](const std::string& l) { return l.starts_with("timeout"); }), 5);
  EXPECT_EQ(hb.size(), 0u);
}

TEST(heartbeat, a_burst_of_due_members_lets_the_loop_run_between_turns) {
  boost::asio::io_context io;
  std::vector<std::string> log;
  std::vector<std::unique_ptr<peer>> peers;
  heartbeat* hbp = nullptr;
  // The members start at one instant, so that they are all due at once.
  std::optional<heartbeat::clock::time_point> frozen = heartbeat::clock::now();
  heartbeat hb(
      io, 20ms, 1s,
      {.ping =
           [&](heartbeat::member& m) {
             log.push_back("ping");
             hbp->pong(m);
             // Other work gets ready during the first turn: it runs before the next.
             if (log.size() == 1) boost::asio::post(io, [&] { log.push_back("other work"); });
             // The round ends here: a loaded machine must not see a second one start.
             if (std::count(log.begin(), log.end(), "ping") == 7) io.stop();
           },
       .timed_out = [&](heartbeat::member&) { log.push_back("timeout"); }},
      [&] { return frozen ? *frozen : heartbeat::clock::now(); }, 3);
  hbp = &hb;
  for (int i = 0; i < 7; ++i) {
    peers.push_back(std::make_unique<peer>(std::to_string(i)));
    hb.start(*peers.back());
  }
  frozen.reset();
  io.run_for(5s);  // one round of 7 pings, in turns of 3 (stopped by the 7th)
  ASSERT_GE(log.size(), 8u);
  EXPECT_EQ((strings{log.begin(), log.begin() + 5}), (strings{"ping", "ping", "ping", "other work", "ping"}));
  EXPECT_EQ(std::count(log.begin(), log.end(), "ping"), 7);
}
