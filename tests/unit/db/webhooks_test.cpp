// The webhook outbox and its deliveries on both backends: what an event
// writes, that it commits or rolls back with the change, and that claims
// never hand one delivery to two senders while its lease lives.
#include "db/webhooks.hpp"

#include "db/migrations.hpp"
#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

using namespace reel::db;
namespace model = reel::model;

namespace {

constexpr const char* k_t0 = "2026-01-01T00:00:00.000Z";
constexpr const char* k_t1 = "2026-01-01T00:00:01.000Z";
constexpr const char* k_t2 = "2026-01-01T00:01:00.000Z";
constexpr const char* k_t3 = "2026-01-01T00:02:00.000Z";

class webhooks_db_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 8);
    } else {
      dir_ = reel::test::scratch_path("reel-webhooks-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 8);
    }
    migrate(*db_, k_t0);
    db_->transact(true, [](transaction& s) {
      s.exec("INSERT INTO organizations (id, name, created_at) VALUES ('o1', 'One', ?), ('o2', 'Two', ?)",
             {k_t0, k_t0});
    });
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void add_endpoint(const std::string& id, const std::string& org, std::vector<std::string> events,
                    bool enabled = true) {
    model::webhook_endpoint e;
    e.id = id;
    e.organization_id = org;
    e.url = "https://hooks.example/" + id;
    e.events = std::move(events);
    e.enabled = enabled;
    e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    e.created_at = e.updated_at = k_t0;
    db_->transact(true, [&](transaction& s) { insert_webhook_endpoint(s, e); });
  }
  std::int64_t count(const std::string& table) {
    std::int64_t n = 0;
    db_->transact(false, [&](transaction& s) { n = s.query_one("SELECT COUNT(*) FROM " + table)->int64(0); });
    return n;
  }
  std::optional<claimed_delivery> claim(const std::string& owner, const char* now, const char* until) {
    std::optional<claimed_delivery> c;
    db_->transact(true, [&](transaction& s) { c = claim_webhook_delivery(s, owner, now, until); });
    return c;
  }

  std::filesystem::path dir_;
  std::unique_ptr<database> db_;
};

}  // namespace

TEST_P(webhooks_db_test, an_event_goes_to_the_enabled_endpoints_that_subscribe_to_it) {
  add_endpoint("whk_a", "o1", {"video.ready", "video.failed"});
  add_endpoint("whk_b", "o1", {"video.failed"});
  add_endpoint("whk_off", "o1", {"video.ready"}, false);
  add_endpoint("whk_other", "o2", {"video.ready"});
  int queued = 0;
  db_->transact(true, [&](transaction& s) {
    queued = record_webhook_event(s, "o1", "video.ready", {{"id", "v1"}}, k_t1);
  });
  EXPECT_EQ(queued, 1);
  EXPECT_EQ(count("webhook_messages"), 1);
  EXPECT_EQ(count("webhook_deliveries"), 1);
  db_->transact(true, [&](transaction& s) { queued = record_webhook_event(s, "o1", "member.added", {}, k_t1); });
  EXPECT_EQ(queued, 0);
  EXPECT_EQ(count("webhook_messages"), 1);  // nobody listens: nothing written
  std::vector<model::webhook_delivery> listed;
  db_->transact(false, [&](transaction& s) { listed = list_webhook_deliveries(s, "whk_a", 10); });
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].event_type, "video.ready");
  EXPECT_EQ(listed[0].payload, R"({"type":"video.ready","timestamp":"2026-01-01T00:00:01.000Z","data":{"id":"v1"}})");
  EXPECT_EQ(listed[0].status, model::delivery_status::pending);
}

TEST_P(webhooks_db_test, the_outbox_rolls_back_with_the_change) {
  add_endpoint("whk_a", "o1", {"video.ready"});
  EXPECT_THROW(db_->transact(true,
                             [&](transaction& s) {
                               record_webhook_event(s, "o1", "video.ready", {}, k_t1);
                               throw std::runtime_error("the change failed");
                             }),
               std::runtime_error);
  EXPECT_EQ(count("webhook_messages"), 0);
  EXPECT_EQ(count("webhook_deliveries"), 0);
}

TEST_P(webhooks_db_test, a_leased_delivery_is_not_claimed_again_until_its_lease_expires) {
  add_endpoint("whk_a", "o1", {"video.ready"});
  db_->transact(true, [&](transaction& s) { record_webhook_event(s, "o1", "video.ready", {}, k_t0); });
  auto first = claim("node-1", k_t1, k_t2);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->delivery.attempts, 1);
  EXPECT_EQ(first->url, "https://hooks.example/whk_a");
  EXPECT_FALSE(claim("node-2", k_t1, k_t2));  // leased
  bool due = true;
  db_->transact(false, [&](transaction& s) { due = webhook_delivery_due(s, k_t1); });
  EXPECT_FALSE(due);
  // node-1 died: after the lease, another node sends it again, same message.
  auto again = claim("node-2", k_t3, "2026-01-01T00:03:00.000Z");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->delivery.message_id, first->delivery.message_id);
  EXPECT_EQ(again->delivery.attempts, 2);
  attempt_outcome done;
  done.status = model::delivery_status::delivered;
  done.response_code = 200;
  bool recorded = false;
  db_->transact(
      true, [&](transaction& s) { recorded = finish_webhook_attempt(s, first->delivery.id, "node-1", done, k_t3); });
  EXPECT_FALSE(recorded);  // node-1 lost it
  db_->transact(
      true, [&](transaction& s) { recorded = finish_webhook_attempt(s, again->delivery.id, "node-2", done, k_t3); });
  EXPECT_TRUE(recorded);
  EXPECT_FALSE(claim("node-3", "2026-01-02T00:00:00.000Z", "2026-01-02T00:01:00.000Z"));
}

TEST_P(webhooks_db_test, deliveries_of_a_disabled_endpoint_wait) {
  add_endpoint("whk_a", "o1", {"video.ready"});
  db_->transact(true, [&](transaction& s) {
    record_webhook_event(s, "o1", "video.ready", {}, k_t0);
    disable_webhook_endpoint(s, "whk_a", "It answered 410 Gone.", k_t0);
  });
  EXPECT_FALSE(claim("node-1", k_t1, k_t2));
  std::optional<model::webhook_endpoint> e;
  db_->transact(false, [&](transaction& s) { e = find_webhook_endpoint(s, "o1", "whk_a"); });
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->enabled);
  EXPECT_EQ(e->disabled_reason, "It answered 410 Gone.");
  db_->transact(false, [&](transaction& s) { e = find_webhook_endpoint(s, "o2", "whk_a"); });
  EXPECT_FALSE(e);  // another organization's id
}

TEST_P(webhooks_db_test, concurrent_claims_never_take_one_delivery_twice) {
  add_endpoint("whk_a", "o1", {"video.ready"});
  add_endpoint("whk_b", "o1", {"video.ready"});
  db_->transact(true, [&](transaction& s) {
    for (int i = 0; i < 20; ++i) record_webhook_event(s, "o1", "video.ready", {{"n", i}}, k_t0);
  });
  std::mutex m;
  std::multiset<std::string> taken;
  std::vector<std::thread> senders;
  for (int t = 0; t < 6; ++t)
    senders.emplace_back([&, t] {
      while (auto c = claim("node-" + std::to_string(t), k_t1, k_t2)) {
        std::lock_guard hold(m);
        taken.insert(c->delivery.id);
      }
    });
  for (auto& t : senders) t.join();
  EXPECT_EQ(taken.size(), 40u);
  EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), 40u);
}

TEST_P(webhooks_db_test, the_log_forgets_ended_deliveries_and_keeps_pending_ones) {
  add_endpoint("whk_a", "o1", {"video.ready"});
  db_->transact(true, [&](transaction& s) {
    record_webhook_event(s, "o1", "video.ready", {{"n", 1}}, k_t0);
    record_webhook_event(s, "o1", "video.ready", {{"n", 2}}, k_t0);
  });
  auto done = claim("node-1", k_t1, k_t2);
  ASSERT_TRUE(done);
  attempt_outcome delivered;
  delivered.status = model::delivery_status::delivered;
  db_->transact(true, [&](transaction& s) { finish_webhook_attempt(s, done->delivery.id, "node-1", delivered, k_t1); });
  std::int64_t pruned = -1;
  db_->transact(true, [&](transaction& s) { pruned = prune_webhook_log(s, k_t1); });
  EXPECT_EQ(pruned, 0);  // ended at k_t1, not before
  db_->transact(true, [&](transaction& s) { pruned = prune_webhook_log(s, k_t3); });
  EXPECT_EQ(pruned, 1);
  EXPECT_EQ(count("webhook_deliveries"), 1);  // the pending one stays
  EXPECT_EQ(count("webhook_messages"), 1);    // with its message
}

INSTANTIATE_TEST_SUITE_P(backends, webhooks_db_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });
