#include "webhooks/sender.hpp"

#include "core/offload.hpp"
#include "support/db_fixture.hpp"

#include <gtest/gtest.h>

using namespace reel::webhooks;

TEST(webhook_sender, attempts_carry_the_standard_webhooks_headers) {
  auto h = signed_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                          R"({"test": 2432232314})");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"}));
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"webhook-timestamp", "1614265330"}));
  EXPECT_EQ(h[2], (std::pair<std::string, std::string>{"webhook-signature",
                                                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}));
}

TEST(webhook_sender, logged_bodies_are_cut_at_a_character_and_made_valid_utf8) {
  EXPECT_EQ(loggable_body("ok"), "ok");
  EXPECT_EQ(loggable_body(std::string(2000, 'a')).size(), 1024u);
  EXPECT_EQ(loggable_body("h\xc3\xa9llo", 2), "h");  // é does not fit: not cut in half
  EXPECT_EQ(loggable_body("h\xc3\xa9llo", 3), "h\xc3\xa9");
  EXPECT_EQ(loggable_body(std::string("a\0b", 3)), "a?b");
  EXPECT_EQ(loggable_body("\xff\xfe"), "??");
  EXPECT_EQ(loggable_body("\xed\xa0\x80"), "???");  // a surrogate
}

// The sender against a real SQLite database and real sockets, with a clock
// the test moves: what becomes of deliveries to a target that refuses
// connections (127.0.0.1 port 1: nothing listens there).
namespace {

class sender_fixture : public reel::test::db_fixture {
 protected:
  void SetUp() override {
    db_fixture::SetUp();
    write([](reel::db::transaction& s) {
      s.exec("INSERT INTO organizations (id, name, created_at) VALUES ('o1', 'One', ?)", {k_start});
    });
  }
  // An endpoint failing since `failing_since` (none: "") with one message queued.
  void queue(const std::string& failing_since) {
    write([&](reel::db::transaction& s) {
      reel::model::webhook_endpoint e;
      e.id = "whk_1";
      e.organization_id = "o1";
      e.url = "http://127.0.0.1:1/hook";
      e.events = {"video.ready"};
      e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      e.created_at = e.updated_at = k_start;
      if (!failing_since.empty()) e.failing_since = failing_since;
      reel::db::insert_webhook_endpoint(s, e);
      reel::db::record_webhook_event(s, "o1", "video.ready", {{"id", "v1"}}, k_start);
    });
  }
  reel::model::webhook_delivery delivery() {
    std::vector<reel::model::webhook_delivery> all;
    db_->transact(false, [&](reel::db::transaction& s) { all = reel::db::list_webhook_deliveries(s, "whk_1", 10); });
    return all.at(0);
  }
  reel::model::webhook_endpoint endpoint() {
    std::optional<reel::model::webhook_endpoint> e;
    db_->transact(false, [&](reel::db::transaction& s) { e = reel::db::find_webhook_endpoint(s, "o1", "whk_1"); });
    return *e;
  }
  // Runs the loop until `done` holds (at most 10 s).
  template <class F>
  bool run_until(boost::asio::io_context& io, F done) {
    for (int i = 0; i < 200; ++i) {
      io.run_for(std::chrono::milliseconds(50));
      if (done()) return true;
    }
    return false;
  }
  sender_settings settings(std::vector<std::chrono::milliseconds> schedule) {
    sender_settings s;
    s.retry_schedule = std::move(schedule);
    s.client.allow_private = true;
    s.poll = std::chrono::milliseconds(20);
    s.owner = "test";
    return s;
  }
  static constexpr const char* k_start = "2026-01-01T00:00:00.000Z";
};

}  // namespace

TEST_F(sender_fixture, a_connection_failure_is_retried_then_fails_when_the_schedule_is_exhausted) {
  queue("");
  boost::asio::io_context io;
  reel::worker_pool pool(2);
  reel::db::gateway gateway(pool, *db_);
  reel::manual_clock clock(*reel::from_iso8601(k_start));
  sender s(io, gateway, clock, settings({std::chrono::milliseconds(1000)}), [] { return 0.5; });
  s.start();
  ASSERT_TRUE(run_until(io, [&] { return delivery().error.has_value(); }));
  auto first = delivery();
  EXPECT_EQ(first.status, reel::model::delivery_status::pending);
  EXPECT_EQ(first.attempts, 1);
  EXPECT_NE(first.error->find("could not connect to 127.0.0.1"), std::string::npos) << *first.error;
  EXPECT_EQ(first.next_attempt_at, "2026-01-01T00:00:01.000Z");  // 1 s, jitter 0.5: exactly the schedule
  EXPECT_EQ(endpoint().failing_since, k_start);
  clock.advance(std::chrono::milliseconds(1000));
  s.notify();
  ASSERT_TRUE(run_until(io, [&] { return delivery().status == reel::model::delivery_status::failed; }));
  EXPECT_EQ(delivery().status, reel::model::delivery_status::failed);
  EXPECT_TRUE(endpoint().enabled);  // one failed delivery does not disable it
  s.stop();
  io.run_for(std::chrono::milliseconds(50));
}

TEST_F(sender_fixture, an_endpoint_failing_for_three_days_is_disabled_with_the_reason) {
  queue("2025-12-28T23:59:59.000Z");  // 3 days and a second before the clock
  boost::asio::io_context io;
  reel::worker_pool pool(2);
  reel::db::gateway gateway(pool, *db_);
  reel::manual_clock clock(*reel::from_iso8601(k_start));
  sender s(io, gateway, clock, settings({std::chrono::milliseconds(1000)}), [] { return 0.5; });
  s.start();
  ASSERT_TRUE(run_until(io, [&] { return !endpoint().enabled; }));
  auto e = endpoint();
  ASSERT_TRUE(e.disabled_reason);
  EXPECT_NE(e.disabled_reason->find("Every delivery has failed since 2025-12-28T23:59:59.000Z"), std::string::npos)
      << *e.disabled_reason;
  EXPECT_NE(e.disabled_reason->find("could not connect"), std::string::npos) << *e.disabled_reason;
  EXPECT_EQ(e.disabled_at, k_start);
  s.stop();
  io.run_for(std::chrono::milliseconds(50));
}
