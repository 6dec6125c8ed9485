#include "db/accounts.hpp"

#include "support/db_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace reel::db;
namespace model = reel::model;

namespace {

using store_test = reel::test::db_fixture;

user make_user(std::string id, std::string email) {
  return {id, email, "Name " + id, "$argon2id$fake", "2026-01-01T00:00:00.000Z"};
}

}  // namespace

TEST_F(store_test, migrations_are_applied_once) {
  EXPECT_EQ(schema_version(*db_), all_migrations().back().version);
  EXPECT_EQ(migrate(*db_, "2026-01-02T00:00:00.000Z"), 0);
}

TEST_F(store_test, duplicate_email_is_a_conflict) {
  write([](transaction& s) { insert_user(s, make_user("u1", "a@b.c")); });
  try {
    write([](transaction& s) { insert_user(s, make_user("u2", "a@b.c")); });
    FAIL() << "no conflict";
  } catch (const db_error& e) {
    EXPECT_EQ(e.code(), reel::errc::conflict);
  }
}

TEST_F(store_test, failed_transaction_is_rolled_back) {
  EXPECT_THROW(write([](transaction& s) {
                 insert_user(s, make_user("u1", "a@b.c"));
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  db_->transact(false, [](transaction& s) { EXPECT_FALSE(find_user_by_id(s, "u1")); });
}

TEST_F(store_test, memberships_list_oldest_first_with_roles) {
  write([](transaction& s) {
    insert_user(s, make_user("u1", "a@b.c"));
    insert_organization(s, {"o1", "First", "2026-01-01T00:00:00.000Z"});
    insert_organization(s, {"o2", "Second", "2026-01-01T00:00:00.000Z"});
    insert_membership(s, "o2", "u1", model::role::viewer, "2026-01-03T00:00:00.000Z");
    insert_membership(s, "o1", "u1", model::role::owner, "2026-01-02T00:00:00.000Z");
  });
  db_->transact(false, [](transaction& s) {
    auto ms = list_memberships(s, "u1");
    ASSERT_EQ(ms.size(), 2u);
    EXPECT_EQ(ms[0].org.id, "o1");
    EXPECT_EQ(ms[0].role, model::role::owner);
    EXPECT_EQ(ms[1].org.name, "Second");
    EXPECT_EQ(count_owners(s, "o1"), 1);
    EXPECT_EQ(count_owners(s, "o2"), 0);
    auto members = list_members(s, "o2");
    ASSERT_EQ(members.size(), 1u);
    EXPECT_EQ(members[0].email, "a@b.c");
  });
}

TEST_F(store_test, role_outside_the_known_four_is_refused) {
  write([](transaction& s) {
    insert_user(s, make_user("u1", "a@b.c"));
    insert_organization(s, {"o1", "First", "2026-01-01T00:00:00.000Z"});
  });
  EXPECT_THROW(write([](transaction& s) {
                 insert_membership(s, "o1", "u1", static_cast<model::role>(9), "2026-01-01T00:00:00.000Z");
               }),
               db_error);
  EXPECT_THROW(write([](transaction& s) {
                 insert_membership(s, "nope", "u1", model::role::viewer, "2026-01-01T00:00:00.000Z");
               }),
               db_error);
}

TEST_F(store_test, sessions_are_found_by_hash_and_revoked_once) {
  write([](transaction& s) {
    insert_user(s, make_user("u1", "a@b.c"));
    insert_session(s, {"s1", "u1", "hash1", "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", std::nullopt});
  });
  write([](transaction& s) {
    auto r = find_session_by_token_hash(s, "hash1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->user_id, "u1");
    EXPECT_FALSE(r->revoked_at);
    EXPECT_TRUE(revoke_session(s, "s1", "2026-01-05T00:00:00.000Z"));
    EXPECT_FALSE(revoke_session(s, "s1", "2026-01-06T00:00:00.000Z"));
    EXPECT_EQ(find_session_by_token_hash(s, "hash1")->revoked_at, "2026-01-05T00:00:00.000Z");
    EXPECT_EQ(delete_stale_sessions(s, "2026-01-04T00:00:00.000Z", "2025-12-01T00:00:00.000Z"), 0);
    EXPECT_EQ(delete_stale_sessions(s, "2026-01-07T00:00:00.000Z", "2025-12-01T00:00:00.000Z"), 1);
  });
}
