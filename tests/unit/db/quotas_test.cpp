// The storage accounting repository on both backends: the conditional
// charge never passes the quota, adjustments never go below 0, deleting a
// video releases its bytes in the same transaction, the sum over the rows,
// and migration 11's backfill from the videos already there.
#include "db/quotas.hpp"

#include "db/accounts.hpp"
#include "db/migrations.hpp"
#include "db/videos.hpp"

#include "support/common.hpp"
#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

using namespace reel::db;
namespace model = reel::model;
using reel::test::k_now;

namespace {

class quotas_repository_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 4);
    } else {
      dir_ = reel::test::scratch_path("reel-quotas-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 4);
    }
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  void migrate_all() {
    migrate(*db_, k_now);
    db_->transact(true, [](transaction& s) {
      model::organization a{"o1", "Org", k_now};
      a.storage_quota_bytes = 1000;
      insert_organization(s, a);
      insert_organization(s, {"o2", "Other", k_now});
    });
  }
  static model::video video(const std::string& id, const std::string& org, std::int64_t size) {
    model::video v;
    v.id = id;
    v.organization_id = org;
    v.title = id;
    v.original_filename = "a.mp4";
    v.content_type = "video/mp4";
    v.size_bytes = size;
    v.created_at = v.updated_at = k_now;
    return v;
  }
  storage_usage usage(const std::string& org) {
    storage_usage u;
    db_->transact(false, [&](transaction& s) { u = *find_storage_usage(s, org); });
    return u;
  }
  template <class F>
  auto write(F f) {
    std::invoke_result_t<F&, transaction&> out{};
    db_->transact(true, [&](transaction& s) { out = f(s); });
    return out;
  }

  std::unique_ptr<database> db_;
  std::filesystem::path dir_;
};

TEST_P(quotas_repository_test, a_new_organization_has_its_quota_and_nothing_used) {
  migrate_all();
  EXPECT_EQ(usage("o1").used, 0);
  EXPECT_EQ(usage("o1").quota, 1000);
  EXPECT_EQ(usage("o2").quota, std::nullopt);
  db_->transact(false, [](transaction& s) {
    auto o = find_organization(s, "o1");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->storage_quota_bytes, 1000);
    EXPECT_EQ(o->storage_used_bytes, 0);
    EXPECT_FALSE(find_storage_usage(s, "nope"));
  });
}

TEST_P(quotas_repository_test, a_charge_up_to_the_quota_passes_and_one_byte_more_does_not) {
  migrate_all();
  EXPECT_TRUE(write([](transaction& s) { return charge_storage(s, "o1", 600); }));
  EXPECT_FALSE(write([](transaction& s) { return charge_storage(s, "o1", 401); }));
  EXPECT_EQ(usage("o1").used, 600);
  EXPECT_TRUE(write([](transaction& s) { return charge_storage(s, "o1", 400); }));
  EXPECT_EQ(usage("o1").used, 1000);
  EXPECT_FALSE(write([](transaction& s) { return charge_storage(s, "o1", 1); }));
  // No quota: anything goes; an unknown organization: nothing.
  EXPECT_TRUE(write([](transaction& s) { return charge_storage(s, "o2", std::int64_t(1) << 50); }));
  EXPECT_FALSE(write([](transaction& s) { return charge_storage(s, "nope", 1); }));
  EXPECT_EQ(usage("o1").used, 1000);  // the other organization's charges are its own
}

TEST_P(quotas_repository_test, adjustments_take_either_sign_and_never_go_below_zero) {
  migrate_all();
  write([](transaction& s) {
    adjust_storage(s, "o1", 1500);  // past the quota: outputs are never refused
    return 0;
  });
  EXPECT_EQ(usage("o1").used, 1500);
  write([](transaction& s) {
    adjust_storage(s, "o1", -2000);
    return 0;
  });
  EXPECT_EQ(usage("o1").used, 0);
}

TEST_P(quotas_repository_test, deleting_a_video_releases_its_original_and_outputs_in_the_same_transaction) {
  migrate_all();
  write([](transaction& s) {
    EXPECT_TRUE(charge_storage(s, "o1", 300));
    insert_video(s, video("v1", "o1", 300));
    EXPECT_TRUE(charge_storage(s, "o1", 200));
    insert_video(s, video("v2", "o1", 200));
    set_video_outputs_bytes(s, "v1", 150);
    adjust_storage(s, "o1", 150);
    return 0;
  });
  EXPECT_EQ(usage("o1").used, 650);
  EXPECT_EQ(write([](transaction& s) { return sum_video_storage(s, "o1"); }), 650);
  // Another organization's id deletes nothing and releases nothing.
  EXPECT_FALSE(write([](transaction& s) { return delete_video(s, "o2", "v1"); }));
  EXPECT_EQ(usage("o1").used, 650);
  EXPECT_TRUE(write([](transaction& s) { return delete_video(s, "o1", "v1"); }));
  EXPECT_EQ(usage("o1").used, 200);
  EXPECT_EQ(write([](transaction& s) { return sum_video_storage(s, "o1"); }), 200);
  // A delete rolled back releases nothing.
  EXPECT_THROW(db_->transact(true,
                             [](transaction& s) {
                               delete_video(s, "o1", "v2");
                               throw std::runtime_error("rolled back");
                             }),
               std::runtime_error);
  EXPECT_EQ(usage("o1").used, 200);
}

TEST_P(quotas_repository_test, quota_and_usage_are_set_and_organizations_found_by_id_or_slug) {
  migrate_all();
  EXPECT_TRUE(write([](transaction& s) { return set_storage_quota(s, "o1", std::nullopt); }));
  EXPECT_EQ(usage("o1").quota, std::nullopt);
  EXPECT_TRUE(write([](transaction& s) { return set_storage_quota(s, "o2", std::int64_t(5)); }));
  EXPECT_EQ(usage("o2").quota, 5);
  EXPECT_FALSE(write([](transaction& s) { return set_storage_quota(s, "nope", std::int64_t(5)); }));
  write([](transaction& s) {
    set_storage_used(s, "o2", 77);
    EXPECT_TRUE(update_organization(s, "o2", {.slug = std::string("other-org")}));
    return 0;
  });
  EXPECT_EQ(usage("o2").used, 77);
  db_->transact(false, [](transaction& s) {
    EXPECT_EQ(find_organization_id(s, "o2"), "o2");
    EXPECT_EQ(find_organization_id(s, "other-org"), "o2");
    EXPECT_FALSE(find_organization_id(s, "missing"));
    EXPECT_EQ(organization_ids(s), (std::vector<std::string>{"o1", "o2"}));
  });
}

TEST_P(quotas_repository_test, migration_11_backfills_the_usage_from_the_videos_there) {
  // The schema as it was at version 9, with an organization and videos.
  db_->transact(true, [&](transaction& s) {
    s.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const auto& m : all_migrations()) {
      if (m.version > 9) continue;
      for (const auto& st : m.statements) s.exec(st.for_backend(db_->backend()));
      s.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", {m.version, m.name, k_now});
    }
    s.exec(
        "INSERT INTO organizations (id, name, created_at, slug) VALUES ('o1', 'Org', ?, 'org'), "
        "('o2', 'Empty', ?, 'empty')",
        {k_now, k_now});
    const char* insert =
        "INSERT INTO videos (id, organization_id, title, status, original_filename, content_type, size_bytes, "
        "created_at, updated_at, ready_at) VALUES (?, 'o1', 't', ?, 'a.mp4', 'video/mp4', ?, ?, ?, ?)";
    s.exec(insert, {"v1", "ready", 1000, k_now, k_now, k_now});
    s.exec(insert, {"v2", "uploading", 234, k_now, k_now, nullptr});
  });
  migrate(*db_, k_now);
  EXPECT_EQ(usage("o1").used, 1234);
  EXPECT_EQ(usage("o1").quota, std::nullopt);
  EXPECT_EQ(usage("o2").used, 0);
  db_->transact(false, [](transaction& s) {
    EXPECT_EQ(find_video_any_org(s, "v1")->outputs_bytes, std::nullopt);  // made before: not measured
    EXPECT_EQ(find_video_any_org(s, "v2")->outputs_bytes, 0);             // none yet
  });
}

INSTANTIATE_TEST_SUITE_P(backends, quotas_repository_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
