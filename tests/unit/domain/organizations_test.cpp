// The membership rules, on the real database without HTTP: an organization
// keeps at least one owner, only owners touch owners, anyone may leave.
#include "domain/organizations.hpp"

#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "domain/accounts.hpp"
#include "support/db_fixture.hpp"
#include "support/postgres.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>

using namespace reel;
namespace asio = boost::asio;
using model::role;

namespace {

class organizations_test : public test::db_fixture {
 protected:
  void SetUp() override {
    db_fixture::SetUp();
    gateway_.emplace(pool_, *db_);
    domain::account_settings cheap;
    cheap.cost = {1, 8 << 10};
    accounts_.emplace(*gateway_, clock_, cheap);
    orgs_.emplace(*gateway_, *accounts_, clock_);
    write([](db::transaction& s) {
      for (const char* u : {"ann", "bob", "cat"})
        db::insert_user(s, {u, std::string(u) + "@example.com", u, "x", "2026-01-01T00:00:00.000Z"});
      db::insert_organization(s, {"o1", "Org", "2026-01-01T00:00:00.000Z"});
      db::insert_membership(s, "o1", "ann", role::owner, "2026-01-01T00:00:00.000Z");
      db::insert_membership(s, "o1", "bob", role::admin, "2026-01-01T00:00:01.000Z");
      db::insert_membership(s, "o1", "cat", role::viewer, "2026-01-01T00:00:02.000Z");
    });
  }

  model::principal who(const std::string& id) {
    model::principal p;
    p.user.id = id;
    return p;
  }
  static model::org_scope as(role r) { return {"o1", "Org", r}; }

  // The errc a domain call throws, or internal when it succeeds. (The call's
  // arguments are references: they must live until it has run, so it is
  // awaited within the caller's full expression.)
  template <class T>
  errc refusal(asio::awaitable<T> call) {
    try {
      test::run(std::move(call));
    } catch (const error& e) {
      return e.code();
    }
    return errc::internal;
  }

  worker_pool pool_{1};
  system_clock clock_;
  std::optional<db::gateway> gateway_;
  std::optional<domain::accounts> accounts_;
  std::optional<domain::organizations> orgs_;
};

}  // namespace

TEST_F(organizations_test, the_last_owner_can_be_neither_demoted_nor_removed_nor_leave) {
  EXPECT_EQ(refusal(orgs_->change_role(as(role::owner), "ann", role::admin)), errc::conflict);
  EXPECT_EQ(refusal(orgs_->remove_member(who("ann"), as(role::owner), "ann")), errc::conflict);
  // With a second owner, the first may step down.
  test::run(orgs_->change_role(as(role::owner), "bob", role::owner));
  auto ann = test::run(orgs_->change_role(as(role::owner), "ann", role::member));
  EXPECT_EQ(ann.role, role::member);
}

TEST_F(organizations_test, only_an_owner_makes_unmakes_or_removes_an_owner) {
  EXPECT_EQ(refusal(orgs_->change_role(as(role::admin), "cat", role::owner)), errc::forbidden);
  EXPECT_EQ(refusal(orgs_->change_role(as(role::admin), "ann", role::viewer)), errc::forbidden);
  EXPECT_EQ(refusal(orgs_->remove_member(who("bob"), as(role::admin), "ann")), errc::forbidden);
}

TEST_F(organizations_test, anyone_may_leave_but_only_admins_remove_others) {
  EXPECT_EQ(refusal(orgs_->remove_member(who("cat"), as(role::viewer), "bob")), errc::forbidden);
  test::run(orgs_->remove_member(who("cat"), as(role::viewer), "cat"));
  auto members = test::run(orgs_->members(as(role::viewer)));
  EXPECT_EQ(members.size(), 2u);
}

TEST_F(organizations_test, a_role_change_reaches_open_connections_through_the_accounts_hook) {
  std::vector<std::pair<std::string, std::optional<role>>> told;
  accounts_->on_membership_changed = [&](const std::string&, const std::string& user, std::optional<role> r) {
    told.emplace_back(user, r);
  };
  test::run(orgs_->change_role(as(role::owner), "cat", role::member));
  test::run(orgs_->remove_member(who("ann"), as(role::owner), "cat"));
  ASSERT_EQ(told.size(), 2u);
  EXPECT_EQ(told[0], std::make_pair(std::string("cat"), std::optional<role>(role::member)));
  EXPECT_EQ(told[1], std::make_pair(std::string("cat"), std::optional<role>()));
}

// On PostgreSQL, write transactions run side by side (READ COMMITTED): two
// owners demoting each other at the same moment must not leave the
// organization without an owner. (On SQLite writes are serialized anyway.)
TEST(organizations_on_postgres, two_owners_demoting_each_other_at_once_leave_one_owner) {
  REEL_REQUIRE_POSTGRES();
  auto database = db::open_database(test::postgres_server::shared().create_database(), "", 4);
  db::migrate(*database, "2026-01-01T00:00:00.000Z");
  worker_pool pool{4};
  system_clock clock;
  db::gateway gateway(pool, *database);
  domain::account_settings cheap;
  cheap.cost = {1, 8 << 10};
  domain::accounts accounts(gateway, clock, cheap);
  domain::organizations orgs(gateway, accounts, clock);
  database->transact(true, [](db::transaction& s) {
    for (const char* u : {"ann", "bob"})
      db::insert_user(s, {u, std::string(u) + "@example.com", u, "x", "2026-01-01T00:00:00.000Z"});
  });
  int refused_total = 0;
  for (int round = 0; round < 20; ++round) {
    std::string org = "org" + std::to_string(round);
    database->transact(true, [&](db::transaction& s) {
      db::insert_organization(s, {org, "Org", "2026-01-01T00:00:00.000Z"});
      db::insert_membership(s, org, "ann", role::owner, "2026-01-01T00:00:00.000Z");
      db::insert_membership(s, org, "bob", role::owner, "2026-01-01T00:00:01.000Z");
    });
    model::org_scope as_owner{org, "Org", role::owner};
    asio::io_context io;
    int refused = 0;
    auto demote = [&](std::string user) -> asio::awaitable<void> {
      try {
        co_await orgs.change_role(as_owner, user, role::admin);
      } catch (const error& e) {
        if (e.code() == errc::conflict) ++refused;
      }
    };
    asio::co_spawn(io, demote("ann"), asio::detached);
    asio::co_spawn(io, demote("bob"), asio::detached);
    io.run();
    std::int64_t owners = 0;
    database->transact(false, [&](db::transaction& s) { owners = db::count_owners(s, org); });
    EXPECT_EQ(owners, 1) << "round " << round;
    refused_total += refused;
  }
  EXPECT_EQ(refused_total, 20);
}
