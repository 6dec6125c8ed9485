// Sessions in the accounts domain, on a real database of either backend with
// a clock the test moves: the idle timeout, the use written at most once a
// minute, the list of a user's sessions and revoking one of them.
#include "domain/accounts.hpp"

#include "auth/tokens.hpp"
#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/api_keys.hpp"
#include "db/migrations.hpp"
#include "domain/api_keys.hpp"
#include "domain/permissions.hpp"
#include "support/postgres.hpp"
#include "support/run.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <set>

using namespace reel;
using namespace std::chrono_literals;

namespace {

// The real database, counting the write transactions that reach it.
class counting_database final : public db::database {
 public:
  explicit counting_database(db::database& inner) : inner_(inner) {}
  void transact(bool write, const std::function<void(db::transaction&)>& fn) override {
    if (write) ++writes;
    inner_.transact(write, fn);
  }
  std::string_view backend() const noexcept override { return inner_.backend(); }
  std::atomic<int> writes{0};

 private:
  db::database& inner_;
};

class sessions_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = db::open_database(test::postgres_server::shared().create_database(), "", 2);
    } else {
      dir_ = reel::test::scratch_path("reel-sessions-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = db::open_database("", dir_.string(), 2);
    }
    db::migrate(*db_, "2026-01-01T00:00:00.000Z");
    counted_.emplace(*db_);
    gateway_.emplace(pool_, *counted_);
    settings_.cost = {1, 8 << 10};
    settings_.session_idle = 1h;
    settings_.session_ttl = 24h;
  }
  void TearDown() override {
    accounts_.reset();
    gateway_.reset();
    counted_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  domain::accounts& accounts() {
    if (!accounts_) accounts_.emplace(*gateway_, clock_, settings_);
    return *accounts_;
  }

  // A new account's token (its first session, opened from `origin`).
  std::string register_user(const std::string& email, domain::session_origin origin = {"192.0.2.1", "Agent"}) {
    std::string password = "correct horse", name = "Name", org = "Org";
    return test::run(accounts().register_account(email, password, name, org, origin)).token;
  }
  std::string login(const std::string& email, const domain::session_origin& origin) {
    std::string password = "correct horse";
    return test::run(accounts().login(email, password, origin)).token;
  }
  std::shared_ptr<const model::principal> authenticate(const std::string& token) {
    return test::run(accounts().authenticate(token));
  }
  // What the database holds for the session of `token`.
  std::optional<model::session_record> stored(const std::string& token) {
    std::optional<model::session_record> out;
    db_->transact(false, [&](db::transaction& s) { out = db::find_session_by_token_hash(s, auth::hash_token(token)); });
    return out;
  }
  std::string at(std::chrono::seconds after_start) const { return to_iso8601(start_ + after_start); }
  errc refusal(const std::function<void()>& f) {
    try {
      f();
    } catch (const error& e) {
      return e.code();
    }
    return errc::internal;
  }

  std::filesystem::path dir_;
  std::unique_ptr<db::database> db_;
  worker_pool pool_{2};
  manual_clock clock_;
  const sys_time start_ = clock_.now();
  std::optional<counting_database> counted_;
  std::optional<db::gateway> gateway_;
  domain::account_settings settings_;
  std::optional<domain::accounts> accounts_;
};

INSTANTIATE_TEST_SUITE_P(backends, sessions_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace

TEST_P(sessions_test, a_session_used_within_the_idle_time_outlives_many_of_them) {
  std::string token = register_user("ann@example.com");
  // Used every 50 minutes for ten hours: ten idle times, never one unused.
  for (int i = 1; i <= 12; ++i) {
    clock_.advance(50min);
    ASSERT_TRUE(authenticate(token)) << "use " << i;
  }
  EXPECT_EQ(stored(token)->last_used_at, at(600min));
  EXPECT_EQ(stored(token)->created_at, at(0s));
}

TEST_P(sessions_test, a_session_unused_for_the_idle_time_is_refused_and_swept) {
  std::string kept = register_user("ann@example.com");
  std::string left = login("ann@example.com", {"192.0.2.2", "Other"});
  clock_.advance(59min);
  ASSERT_TRUE(authenticate(kept));
  ASSERT_TRUE(authenticate(left));
  clock_.advance(30min);
  ASSERT_TRUE(authenticate(kept));
  clock_.advance(30min);  // `left` unused for an hour and a minute
  EXPECT_FALSE(authenticate(left));
  EXPECT_TRUE(authenticate(kept));
  // The same past the idle time from a fresh process (no cache: the database's word).
  accounts_.reset();
  clock_.advance(61min);
  EXPECT_FALSE(authenticate(kept));
  // The sweep deletes both; nothing else refused them.
  EXPECT_EQ(test::run(accounts().sweep_sessions()), 2);
  EXPECT_FALSE(stored(kept));
  EXPECT_FALSE(stored(left));
}

TEST_P(sessions_test, an_idle_session_is_refused_while_its_principal_is_still_cached) {
  settings_.cache_ttl = 10h;  // only the idle rule can refuse it
  std::string token = register_user("ann@example.com");
  ASSERT_TRUE(authenticate(token));
  clock_.advance(1h);
  EXPECT_FALSE(authenticate(token));
}

TEST_P(sessions_test, use_is_written_at_most_once_a_minute) {
  EXPECT_EQ(accounts().record_use_every(), 60s);
  std::string token = register_user("ann@example.com");
  const int writes_before = counted_->writes;
  std::vector<std::string> recorded;
  // A request every 10 s for 3 minutes, through the cache (60 s) and past it.
  for (int i = 1; i <= 18; ++i) {
    clock_.advance(10s);
    ASSERT_TRUE(authenticate(token));
    recorded.push_back(stored(token)->last_used_at);
  }
  std::set<std::string> distinct(recorded.begin(), recorded.end());
  EXPECT_EQ(distinct, (std::set<std::string>{at(0s), at(60s), at(120s), at(180s)}));
  EXPECT_EQ(recorded[4], at(0s));                  // at 50 s: not yet
  EXPECT_EQ(recorded[5], at(60s));                 // at 60 s: written
  EXPECT_EQ(recorded[10], at(60s));                // at 110 s: not again
  EXPECT_EQ(counted_->writes - writes_before, 3);  // no write transaction for the other 15 requests
}

TEST_P(sessions_test, a_short_idle_time_writes_often_enough_not_to_end_a_session_in_use) {
  settings_.session_idle = 60s;  // the least REEL_SESSION_IDLE_SECONDS allows
  EXPECT_EQ(accounts().record_use_every(), 15s);
  std::string token = register_user("ann@example.com");
  for (int i = 1; i <= 20; ++i) {
    clock_.advance(40s);
    ASSERT_TRUE(authenticate(token)) << "use " << i;
    if (i % 5 == 0) accounts_.reset();  // another process: only the database remembers
  }
  clock_.advance(60s);
  EXPECT_FALSE(authenticate(token));
}

TEST_P(sessions_test, the_list_holds_live_sessions_most_recently_used_first_with_their_origin) {
  std::string first = register_user("ann@example.com", {"192.0.2.1", "Firefox"});
  clock_.advance(2min);
  std::string second = login("ann@example.com", {"2001:db8::2", "Chrome"});
  clock_.advance(2min);
  std::string third = login("ann@example.com", {"192.0.2.3", ""});
  std::string bob = register_user("bob@example.com");
  clock_.advance(2min);
  auto me = authenticate(second);
  ASSERT_TRUE(me);
  clock_.advance(1min);
  ASSERT_TRUE(authenticate(first));  // now the most recently used
  auto gone = authenticate(third);
  ASSERT_TRUE(gone);
  test::run(accounts().logout(*gone));

  auto list = test::run(accounts().sessions(*me));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].id, stored(first)->id);
  EXPECT_EQ(list[0].user_agent, "Firefox");
  EXPECT_EQ(list[0].address, "192.0.2.1");
  EXPECT_EQ(list[0].created_at, start_);
  EXPECT_EQ(list[0].last_used_at, start_ + 7min);
  EXPECT_EQ(list[0].expires_at, start_ + 24h);
  EXPECT_FALSE(list[0].current);
  EXPECT_EQ(list[1].id, me->session_id);
  EXPECT_EQ(list[1].address, "2001:db8::2");
  EXPECT_TRUE(list[1].current);
  // An hour on, only the one used since is left.
  clock_.advance(50min);
  ASSERT_TRUE(authenticate(second));
  clock_.advance(11min);
  auto later = test::run(accounts().sessions(*me));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].id, me->session_id);
}

TEST_P(sessions_test, revoking_one_session_ends_it_at_once_and_only_for_its_own_user) {
  std::string mine = register_user("ann@example.com");
  std::string other = login("ann@example.com", {"192.0.2.2", "Other"});
  std::string bobs = register_user("bob@example.com");
  auto ann = authenticate(mine);
  auto bob = authenticate(bobs);
  ASSERT_TRUE(authenticate(other));  // cached now
  std::vector<std::pair<std::string, std::string>> told;
  accounts().on_logout = [&](const std::string& id, const std::string& hash) { told.emplace_back(id, hash); };

  std::string other_id = stored(other)->id, bobs_id = stored(bobs)->id;
  EXPECT_EQ(refusal([&] { test::run(accounts().revoke_session(*ann, bobs_id)); }), errc::not_found);
  EXPECT_EQ(refusal([&] { test::run(accounts().revoke_session(*bob, other_id)); }), errc::not_found);
  std::string malformed = "../x", unknown = "AAAAAAAAAAAAAAAA";
  EXPECT_EQ(refusal([&] { test::run(accounts().revoke_session(*ann, malformed)); }), errc::not_found);
  EXPECT_EQ(refusal([&] { test::run(accounts().revoke_session(*ann, unknown)); }), errc::not_found);
  EXPECT_TRUE(told.empty());
  EXPECT_TRUE(authenticate(bobs));

  test::run(accounts().revoke_session(*ann, other_id));
  EXPECT_FALSE(authenticate(other));  // though it was cached
  EXPECT_TRUE(authenticate(mine));
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], std::make_pair(other_id, auth::hash_token(other)));
  EXPECT_EQ(refusal([&] { test::run(accounts().revoke_session(*ann, other_id)); }), errc::not_found);  // once
}

TEST_P(sessions_test, an_api_keys_use_is_written_at_most_once_a_minute_it_never_idles_and_revoking_forgets_it_at_once) {
  settings_.cache_ttl = 10h;  // only the revocation can end the cached key
  auto owner = authenticate(register_user("ann@example.com"));
  ASSERT_TRUE(owner);
  domain::api_keys keys(*gateway_, accounts(), clock_);
  auto scope = domain::acting_org(*owner, std::nullopt);
  auto made = test::run(keys.create(*owner, scope, "Encoder", model::role::member));
  auto used = [&] {
    std::optional<std::string> out;
    db_->transact(false, [&](db::transaction& s) {
      out = db::find_api_key_by_token_hash(s, auth::hash_token(made.secret))->last_used_at;
    });
    return out;
  };
  EXPECT_FALSE(used());
  const int writes_before = counted_->writes;
  std::set<std::string> recorded;
  for (int i = 1; i <= 18; ++i) {  // a request every 10 s for 3 minutes
    clock_.advance(10s);
    auto p = authenticate(made.secret);
    ASSERT_TRUE(p && p->api_key) << "use " << i;
    EXPECT_EQ(p->api_key->id, made.key.id);
    ASSERT_EQ(p->memberships.size(), 1u);
    EXPECT_EQ(p->memberships[0].role, model::role::member);
    recorded.insert(used().value_or(""));
  }
  EXPECT_EQ(recorded, (std::set<std::string>{at(10s), at(70s), at(130s)}));
  EXPECT_EQ(counted_->writes - writes_before, 3);
  clock_.advance(5h);  // five idle times of a session: a key does not idle
  EXPECT_TRUE(authenticate(made.secret));
  test::run(keys.revoke(scope, made.key.id));
  EXPECT_FALSE(authenticate(made.secret));
  EXPECT_EQ(refusal([&] { test::run(keys.revoke(scope, made.key.id)); }), errc::not_found);
}
