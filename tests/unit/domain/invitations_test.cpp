// The invitation rules on the real database (both backends) without HTTP,
// with a clock the test moves (expiry) and a mailer that only records
// (the SMTP sender is tested on its own).
#include "domain/invitations.hpp"

#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "domain/accounts.hpp"
#include "support/postgres.hpp"
#include "support/run.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <filesystem>

using namespace reel;
namespace asio = boost::asio;
using model::role;
using namespace std::chrono_literals;

namespace {

// Records what it is asked to send; optionally takes its time, or fails.
class recording_mailer : public domain::mailer {
 public:
  asio::awaitable<void> send(domain::mail_message m) override {
    if (delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (fail) throw error(errc::unavailable, "The mail server refused the message.");
    sent.push_back(std::move(m));
  }
  std::vector<domain::mail_message> sent;
  std::chrono::milliseconds delay{0};
  bool fail = false;
};

class invitations_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = db::open_database(test::postgres_server::shared().create_database(), "", 2);
    } else {
      dir_ = reel::test::scratch_path("reel-invitations-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = db::open_database("", dir_.string(), 2);
    }
    db::migrate(*db_, "2026-01-01T00:00:00.000Z");
    gateway_.emplace(pool_, *db_);
    domain::account_settings cheap;
    cheap.cost = {1, 8 << 10};
    accounts_.emplace(*gateway_, clock_, cheap);
    accounts_->on_memberships_changed = [this] { ++memberships_changed_; };
    invitations_.emplace(*gateway_, *accounts_, clock_,
                         domain::invitation_settings{.ttl = 7 * 24h, .public_url = "https://videos.example.com"});
    invitations_->use_mailer(&mailer_);
    db_->transact(true, [](db::transaction& s) {
      for (const char* u : {"ann", "bob", "cat", "dan", "eve"})
        db::insert_user(
            s, {u, std::string(u) + "@example.com", std::string("User ") + u, "x", "2026-01-01T00:00:00.000Z"});
      db::insert_organization(s, {"o1", "Org", "2026-01-01T00:00:00.000Z"});
      db::insert_membership(s, "o1", "ann", role::owner, "2026-01-01T00:00:00.000Z");
      db::insert_membership(s, "o1", "bob", role::admin, "2026-01-01T00:00:01.000Z");
      db::insert_membership(s, "o1", "cat", role::member, "2026-01-01T00:00:02.000Z");
      db::insert_organization(s, {"o2", "Other", "2026-01-01T00:00:00.000Z"});
      db::insert_membership(s, "o2", "eve", role::owner, "2026-01-01T00:00:00.000Z");
    });
  }
  void TearDown() override {
    invitations_.reset();
    accounts_.reset();
    gateway_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static model::principal who(const std::string& id) {
    model::principal p;
    p.user = {id, id + "@example.com", "User " + id, "", "2026-01-01T00:00:00.000Z"};
    return p;
  }
  static model::org_scope in(role r, const std::string& org = "o1") { return {org, org == "o1" ? "Org" : "Other", r}; }

  model::invitation invite(const std::string& by, role as, const std::string& email, role r) {
    return test::run(invitations_->invite(who(by), in(as), email, r));
  }
  // The errc a domain call throws, or internal when it succeeds.
  template <class T>
  errc refusal(asio::awaitable<T> call) {
    try {
      test::run(std::move(call));
    } catch (const error& e) {
      return e.code();
    }
    return errc::internal;
  }
  std::vector<model::membership> memberships_of(const std::string& user) {
    std::vector<model::membership> out;
    db_->transact(false, [&](db::transaction& s) { out = db::list_memberships(s, user); });
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<db::database> db_;
  worker_pool pool_{2};
  manual_clock clock_;
  recording_mailer mailer_;
  int memberships_changed_ = 0;
  std::optional<db::gateway> gateway_;
  std::optional<domain::accounts> accounts_;
  std::optional<domain::invitations> invitations_;
};

INSTANTIATE_TEST_SUITE_P(backends, invitations_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace

TEST_P(invitations_test, an_accepted_invitation_makes_a_member_with_its_role_and_drops_cached_memberships) {
  auto inv = invite("bob", role::admin, "dan@example.com", role::member);
  EXPECT_EQ(inv.email, "dan@example.com");
  EXPECT_EQ(inv.role, role::member);
  EXPECT_EQ(inv.org.name, "Org");
  EXPECT_EQ(inv.inviter_name, "User bob");
  EXPECT_EQ(from_iso8601(inv.expires_at), from_iso8601(inv.created_at).value() + 7 * 24h);
  EXPECT_TRUE(memberships_of("dan").empty());  // nothing happens without their word

  auto mine = test::run(invitations_->pending_for(who("dan")));
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, inv.id);
  EXPECT_TRUE(test::run(invitations_->pending_for(who("eve"))).empty());
  EXPECT_EQ(test::run(invitations_->pending_of(in(role::admin))).size(), 1u);

  auto joined = test::run(invitations_->accept(who("dan"), inv.id));
  EXPECT_EQ(joined.org.id, "o1");
  EXPECT_EQ(joined.role, role::member);
  EXPECT_EQ(memberships_changed_, 1);
  ASSERT_EQ(memberships_of("dan").size(), 1u);
  EXPECT_EQ(memberships_of("dan")[0].role, role::member);
  EXPECT_TRUE(test::run(invitations_->pending_for(who("dan"))).empty());
  EXPECT_TRUE(test::run(invitations_->pending_of(in(role::admin))).empty());
  EXPECT_EQ(refusal(invitations_->accept(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->decline(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->invite(who("bob"), in(role::admin), "dan@example.com", role::viewer)),
            errc::conflict);
}

TEST_P(invitations_test, the_invitee_is_mailed_a_link_to_the_inbox_whether_or_not_registered) {
  invite("ann", role::owner, "dan@example.com", role::admin);
  invite("ann", role::owner, "nobody@example.com", role::viewer);
  ASSERT_EQ(mailer_.sent.size(), 2u);
  const auto& m = mailer_.sent[0];
  EXPECT_EQ(m.to, "dan@example.com");
  EXPECT_EQ(m.subject, "User ann invited you to Org on reel");
  EXPECT_NE(m.text.find("as an admin"), std::string::npos) << m.text;
  EXPECT_NE(m.text.find("\nhttps://videos.example.com/#/invitations\n"), std::string::npos) << m.text;
  EXPECT_EQ(mailer_.sent[1].to, "nobody@example.com");
}

TEST_P(invitations_test, the_answer_neither_waits_for_the_mail_nor_changes_when_it_fails) {
  mailer_.delay = 200ms;
  asio::io_context io;
  std::optional<std::size_t> sent_when_answered;
  // The call's arguments are references: they must outlive io.run().
  auto ann = who("ann");
  auto scope = in(role::owner);
  std::string email = "dan@example.com";
  asio::co_spawn(io, invitations_->invite(ann, scope, email, role::viewer),
                 [&](std::exception_ptr e, const model::invitation&) {
                   EXPECT_FALSE(e);
                   sent_when_answered = mailer_.sent.size();
                 });
  io.run();  // returns once the mail has gone too
  ASSERT_TRUE(sent_when_answered);
  EXPECT_EQ(*sent_when_answered, 0u);
  EXPECT_EQ(mailer_.sent.size(), 1u);

  mailer_.delay = 0ms;
  mailer_.fail = true;
  auto inv = invite("ann", role::owner, "eve@example.com", role::viewer);
  EXPECT_EQ(test::run(invitations_->pending_for(who("eve"))).at(0).id, inv.id);
}

TEST_P(invitations_test, an_invitation_expires_after_seven_days) {
  auto inv = invite("bob", role::admin, "dan@example.com", role::viewer);
  clock_.advance(7 * 24h - 1s);
  EXPECT_EQ(test::run(invitations_->pending_for(who("dan"))).size(), 1u);
  clock_.advance(1s);
  EXPECT_TRUE(test::run(invitations_->pending_for(who("dan"))).empty());
  EXPECT_TRUE(test::run(invitations_->pending_of(in(role::admin))).empty());
  EXPECT_EQ(refusal(invitations_->accept(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->decline(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->revoke(in(role::admin), inv.id)), errc::not_found);
  EXPECT_TRUE(memberships_of("dan").empty());
  // Inviting again brings it back for another seven days.
  auto again = invite("bob", role::admin, "dan@example.com", role::member);
  EXPECT_EQ(again.id, inv.id);
  EXPECT_EQ(test::run(invitations_->accept(who("dan"), inv.id)).role, role::member);
}

TEST_P(invitations_test, inviting_again_refreshes_role_and_expiry_of_the_one_invitation) {
  auto first = invite("bob", role::admin, "dan@example.com", role::viewer);
  clock_.advance(6 * 24h);
  auto second = invite("ann", role::owner, "dan@example.com", role::admin);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.role, role::admin);
  EXPECT_EQ(second.inviter_name, "User ann");
  EXPECT_GT(from_iso8601(second.expires_at), from_iso8601(first.expires_at));
  EXPECT_EQ(test::run(invitations_->pending_of(in(role::admin))).size(), 1u);
  clock_.advance(2 * 24h);  // past the first expiry, not the second
  auto mine = test::run(invitations_->pending_for(who("dan")));
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].role, role::admin);
  // Once answered, a new invitation is a new one.
  test::run(invitations_->decline(who("dan"), first.id));
  auto third = invite("bob", role::admin, "dan@example.com", role::viewer);
  EXPECT_NE(third.id, first.id);
  // Another organization's invitation to the same address is its own.
  auto elsewhere = test::run(invitations_->invite(who("eve"), in(role::owner, "o2"), "dan@example.com", role::viewer));
  EXPECT_NE(elsewhere.id, third.id);
  EXPECT_EQ(test::run(invitations_->pending_for(who("dan"))).size(), 2u);
}

TEST_P(invitations_test, only_the_invitee_answers_and_only_once) {
  auto inv = invite("bob", role::admin, "dan@example.com", role::viewer);
  EXPECT_EQ(refusal(invitations_->accept(who("eve"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->decline(who("eve"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->accept(who("dan"), "no-such-id")), errc::not_found);
  test::run(invitations_->decline(who("dan"), inv.id));
  EXPECT_EQ(refusal(invitations_->accept(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->decline(who("dan"), inv.id)), errc::not_found);
  EXPECT_TRUE(memberships_of("dan").empty());
  EXPECT_EQ(memberships_changed_, 0);
}

TEST_P(invitations_test, a_revoked_invitation_cannot_be_accepted) {
  auto inv = invite("bob", role::admin, "dan@example.com", role::viewer);
  // Not from another organization, whatever the caller's role there.
  EXPECT_EQ(refusal(invitations_->revoke(in(role::owner, "o2"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->revoke(in(role::member), inv.id)), errc::forbidden);
  test::run(invitations_->revoke(in(role::admin), inv.id));
  EXPECT_TRUE(test::run(invitations_->pending_for(who("dan"))).empty());
  EXPECT_EQ(refusal(invitations_->accept(who("dan"), inv.id)), errc::not_found);
  EXPECT_EQ(refusal(invitations_->revoke(in(role::admin), inv.id)), errc::not_found);
}

TEST_P(invitations_test, the_rules_of_adding_a_member_hold_for_inviting) {
  EXPECT_EQ(refusal(invitations_->invite(who("cat"), in(role::member), "dan@example.com", role::viewer)),
            errc::forbidden);
  EXPECT_EQ(refusal(invitations_->invite(who("cat"), in(role::viewer), "dan@example.com", role::viewer)),
            errc::forbidden);
  EXPECT_EQ(refusal(invitations_->pending_of(in(role::member))), errc::forbidden);
  // Only an owner invites an owner, and changes or revokes their invitation.
  EXPECT_EQ(refusal(invitations_->invite(who("bob"), in(role::admin), "dan@example.com", role::owner)),
            errc::forbidden);
  auto owner = invite("ann", role::owner, "dan@example.com", role::owner);
  EXPECT_EQ(refusal(invitations_->invite(who("bob"), in(role::admin), "dan@example.com", role::viewer)),
            errc::forbidden);
  EXPECT_EQ(refusal(invitations_->revoke(in(role::admin), owner.id)), errc::forbidden);
  EXPECT_EQ(test::run(invitations_->pending_for(who("dan"))).at(0).role, role::owner);
  // A member already: conflict (members are listed to the inviter anyway).
  EXPECT_EQ(refusal(invitations_->invite(who("bob"), in(role::admin), "cat@example.com", role::viewer)),
            errc::conflict);
  EXPECT_TRUE(mailer_.sent.size() == 1u);  // the owner's invitation only
}

TEST_P(invitations_test, accepting_when_a_member_already_keeps_the_membership_as_it_is) {
  auto inv = invite("ann", role::owner, "dan@example.com", role::viewer);
  db_->transact(
      true, [](db::transaction& s) { db::insert_membership(s, "o1", "dan", role::admin, "2026-01-01T00:00:03.000Z"); });
  auto joined = test::run(invitations_->accept(who("dan"), inv.id));
  EXPECT_EQ(joined.role, role::admin);
  EXPECT_EQ(memberships_of("dan").size(), 1u);
  EXPECT_TRUE(test::run(invitations_->pending_for(who("dan"))).empty());
}
