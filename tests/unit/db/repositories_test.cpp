// The repositories' round trips on both backends: the same SQL, the same answers.
#include "db/accounts.hpp"
#include "db/invitations.hpp"
#include "db/jobs.hpp"
#include "db/migrations.hpp"
#include "db/uploads.hpp"
#include "db/videos.hpp"
#include "model/json.hpp"

#include "support/postgres.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

using namespace reel::db;
namespace model = reel::model;
using reel::errc;

namespace {

class repositories_test : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      REEL_REQUIRE_POSTGRES();
      db_ = open_database(reel::test::postgres_server::shared().create_database(), "", 2);
    } else {
      dir_ = reel::test::scratch_path("reel-repos-");
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      db_ = open_database("", dir_.string(), 2);
    }
    migrate(*db_, "2026-01-01T00:00:00.000Z");
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  template <class F>
  void write(F&& f) {
    db_->transact(true, f);
  }
  template <class F>
  void read(F&& f) {
    db_->transact(false, f);
  }
  template <class F>
  errc failure_of(F&& f) {
    try {
      write(f);
    } catch (const db_error& e) {
      return e.code();
    }
    ADD_FAILURE() << "no db_error";
    return errc::internal;
  }

  static std::string at(int second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02d.000Z", second / 3600, second / 60 % 60, second % 60);
    return buf;
  }
  static model::user user(const std::string& id) {
    return {id, id + "@example.com", "Name " + id, "$argon2id$x", at(0)};
  }
  static model::video video(const std::string& id, const std::string& org, int second,
                            model::video_status status = model::video_status::queued) {
    model::video v;
    v.id = id;
    v.organization_id = org;
    v.title = "Title " + id;
    v.status = status;
    v.original_filename = id + ".mp4";
    v.content_type = "video/mp4";
    v.size_bytes = 5'000'000'000;  // past 32 bits
    v.created_at = v.updated_at = at(second);
    return v;
  }
  static model::job job(const std::string& id, const std::string& org, int second,
                        std::optional<std::string> video_id = std::nullopt) {
    model::job j;
    j.id = id;
    j.kind = "process_video";
    j.organization_id = org;
    j.video_id = std::move(video_id);
    j.run_after = j.created_at = j.updated_at = at(second);
    return j;
  }
  static std::vector<std::string> ids(const std::vector<model::video>& vs) {
    std::vector<std::string> out;
    for (const auto& v : vs) out.push_back(v.id);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<database> db_;
};

INSTANTIATE_TEST_SUITE_P(backends, repositories_test, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace

TEST_P(repositories_test, users_are_found_by_email_and_id_and_an_email_is_taken_once) {
  write([](transaction& s) { insert_user(s, user("u1")); });
  read([](transaction& s) {
    EXPECT_EQ(find_user_by_email(s, "u1@example.com")->id, "u1");
    EXPECT_EQ(find_user_by_id(s, "u1")->password_hash, "$argon2id$x");
    EXPECT_FALSE(find_user_by_id(s, "u2"));
  });
  EXPECT_EQ(failure_of([](transaction& s) {
              auto u = user("u2");
              u.email = "u1@example.com";
              insert_user(s, u);
            }),
            errc::conflict);
}

TEST_P(repositories_test, memberships_list_oldest_first_and_ties_in_the_order_they_were_added) {
  write([](transaction& s) {
    for (auto id : {"u-z", "u-a", "u-m"}) insert_user(s, user(id));
    for (auto id : {"o-z", "o-a", "o-m"}) insert_organization(s, {id, "Org " + std::string(id), at(0)});
    // u-m joined o-m first; then o-z and o-a in the same millisecond, o-z first.
    insert_membership(s, "o-m", "u-m", model::role::owner, at(1));
    insert_membership(s, "o-z", "u-m", model::role::viewer, at(2));
    insert_membership(s, "o-a", "u-m", model::role::admin, at(2));
    insert_membership(s, "o-a", "u-z", model::role::owner, at(2));
    insert_membership(s, "o-a", "u-a", model::role::member, at(2));
  });
  read([](transaction& s) {
    auto ms = list_memberships(s, "u-m");
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[0].org.id, "o-m");
    EXPECT_EQ(ms[0].role, model::role::owner);
    EXPECT_EQ(ms[1].org.id, "o-z");
    EXPECT_EQ(ms[2].org.id, "o-a");
    EXPECT_EQ(ms[2].org.name, "Org o-a");
    EXPECT_EQ(ms[2].joined_at, at(2));
    auto members = list_members(s, "o-a");
    ASSERT_EQ(members.size(), 3u);
    EXPECT_EQ(members[0].user_id, "u-m");
    EXPECT_EQ(members[1].user_id, "u-z");
    EXPECT_EQ(members[2].user_id, "u-a");
    EXPECT_EQ(members[2].email, "u-a@example.com");
    EXPECT_EQ(find_membership(s, "o-z", "u-m")->role, model::role::viewer);
    EXPECT_FALSE(find_member(s, "o-z", "u-a"));
  });
  EXPECT_EQ(failure_of([](transaction& s) { insert_membership(s, "o-a", "u-a", model::role::viewer, at(3)); }),
            errc::conflict);
  write([](transaction& s) {
    EXPECT_TRUE(set_membership_role(s, "o-a", "u-a", model::role::owner));
    EXPECT_EQ(count_owners(s, "o-a"), 2);
    EXPECT_TRUE(delete_membership(s, "o-a", "u-z"));
    EXPECT_FALSE(delete_membership(s, "o-a", "u-z"));
    EXPECT_EQ(count_owners(s, "o-a"), 1);
  });
}

TEST_P(repositories_test, invitations_stay_one_per_org_and_email_until_answered_and_are_answered_once) {
  using model::role;
  write([](transaction& s) {
    for (auto id : {"u1", "u2"}) insert_user(s, user(id));
    insert_organization(s, {"o1", "One", at(0)});
    insert_organization(s, {"o2", "Two", at(0)});
    insert_membership(s, "o1", "u1", role::owner, at(0));
    EXPECT_EQ(upsert_invitation(s, "i1", "o1", "new@example.com", role::viewer, "u1", at(1), at(100)), "i1");
    // The same address again: the same invitation, refreshed.
    EXPECT_EQ(upsert_invitation(s, "i2", "o1", "new@example.com", role::admin, "u2", at(2), at(200)), "i1");
    EXPECT_EQ(upsert_invitation(s, "i3", "o2", "new@example.com", role::member, "u1", at(3), at(100)), "i3");
    EXPECT_TRUE(is_member_by_email(s, "o1", "u1@example.com"));
    EXPECT_FALSE(is_member_by_email(s, "o2", "u1@example.com"));
  });
  read([](transaction& s) {
    auto to = pending_invitations_to(s, "new@example.com", at(150));
    ASSERT_EQ(to.size(), 1u);  // i3 expired at 100
    EXPECT_EQ(to[0].id, "i1");
    EXPECT_EQ(to[0].role, role::admin);
    EXPECT_EQ(to[0].org.name, "One");
    EXPECT_EQ(to[0].inviter_name, "Name u2");
    EXPECT_EQ(to[0].created_at, at(2));
    EXPECT_EQ(to[0].expires_at, at(200));
    EXPECT_EQ(pending_invitations_of(s, "o2", at(50)).size(), 1u);
    EXPECT_EQ(unanswered_invitation_role(s, "o2", "new@example.com"), role::member);  // expired, not answered
    EXPECT_FALSE(find_pending_invitation(s, "o2", "i1", at(50)));
  });
  write([](transaction& s) {
    EXPECT_FALSE(accept_invitation(s, "i1", "other@example.com", at(10)));
    auto accepted = accept_invitation(s, "i1", "new@example.com", at(10));
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->org_id, "o1");
    EXPECT_EQ(accepted->role, role::admin);
    EXPECT_FALSE(accept_invitation(s, "i1", "new@example.com", at(11)));
    EXPECT_FALSE(decline_invitation(s, "i1", "new@example.com", at(11)));
    EXPECT_FALSE(revoke_invitation(s, "o1", "i1", at(11)));
    EXPECT_FALSE(revoke_invitation(s, "o1", "i3", at(11)));  // another organization's
    EXPECT_TRUE(revoke_invitation(s, "o2", "i3", at(11)));
    // Answered ones no longer hold the place: a new invitation is a new row.
    EXPECT_EQ(upsert_invitation(s, "i4", "o1", "new@example.com", role::viewer, "u1", at(12), at(100)), "i4");
    // The inviter's account goes; the invitation stays, from nobody.
    s.exec("DELETE FROM users WHERE id = 'u1'");
  });
  read([](transaction& s) {
    auto of = pending_invitations_of(s, "o1", at(13));
    ASSERT_EQ(of.size(), 1u);
    EXPECT_EQ(of[0].id, "i4");
    EXPECT_FALSE(of[0].inviter_id);
    EXPECT_FALSE(of[0].inviter_name);
  });
  EXPECT_EQ(failure_of([](transaction& s) {
              upsert_invitation(s, "i5", "o1", "x@example.com", role::viewer, "u2", at(1), at(2));
              s.exec(
                  "INSERT INTO invitations (id, organization_id, email, role, created_at, expires_at) "
                  "VALUES ('i6', 'o1', 'x@example.com', 'viewer', ?, ?)",
                  {at(1), at(2)});
            }),
            errc::conflict);
}

TEST_P(repositories_test, sessions_are_found_by_hash_revoked_once_and_swept) {
  write([](transaction& s) {
    insert_user(s, user("u1"));
    insert_session(s, {"s1", "u1", "hash1", at(0), at(100), std::nullopt});
  });
  write([](transaction& s) {
    EXPECT_EQ(find_session_by_token_hash(s, "hash1")->user_id, "u1");
    EXPECT_TRUE(revoke_session(s, "s1", at(5)));
    EXPECT_FALSE(revoke_session(s, "s1", at(6)));
    EXPECT_EQ(find_session_by_token_hash(s, "hash1")->revoked_at, at(5));
    EXPECT_EQ(delete_stale_sessions(s, at(4), "2025-12-31T00:00:00.000Z"), 0);
    EXPECT_EQ(delete_stale_sessions(s, at(7), "2025-12-31T00:00:00.000Z"), 1);
  });
}

TEST_P(repositories_test, sessions_keep_where_they_came_from_and_list_live_ones_most_recently_used_first) {
  auto session = [](const std::string& id, const std::string& user, int created, int expires) {
    model::session_record r{id, user, "hash-" + id, at(created), at(expires), std::nullopt};
    r.address = "203.0.113." + id.substr(1);
    r.user_agent = "Agent Zoë " + id;
    return r;
  };
  write([&](transaction& s) {
    insert_user(s, user("u1"));
    insert_user(s, user("u2"));
    insert_session(s, session("s1", "u1", 10, 1000));
    insert_session(s, session("s2", "u1", 20, 1000));
    insert_session(s, session("s3", "u1", 30, 1000));
    insert_session(s, session("s4", "u1", 40, 50));    // expires at 50
    insert_session(s, session("s5", "u1", 45, 1000));  // revoked below
    insert_session(s, session("s6", "u2", 60, 1000));  // another user's
    model::session_record bare{"s7", "u1", "hash-s7", at(5), at(1000), std::nullopt};
    insert_session(s, bare);  // no origin known
  });
  write([](transaction& s) {
    auto found = find_session_by_token_hash(s, "hash-s2");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->last_used_at, at(20));  // a new session was last used when it was made
    EXPECT_EQ(found->address, "203.0.113.2");
    EXPECT_EQ(found->user_agent, "Agent Zoë s2");
    EXPECT_EQ(find_session_by_token_hash(s, "hash-s7")->address, "");
    EXPECT_TRUE(revoke_session(s, "s5", at(46)));
    EXPECT_TRUE(record_session_use(s, "s1", at(100), at(40)));  // s1 is now the most recently used
  });
  read([](transaction& s) {
    // At 60, idle before 8: s7 (last used at 5) is idle, s4 expired, s5 revoked, s6 another user's.
    auto live = list_live_sessions(s, "u1", at(60), at(8));
    std::vector<std::string> ids;
    for (const auto& r : live) ids.push_back(r.id);
    EXPECT_EQ(ids, (std::vector<std::string>{"s1", "s3", "s2"}));
    ASSERT_EQ(live.size(), 3u);
    EXPECT_EQ(live[0].last_used_at, at(100));
    EXPECT_EQ(live[0].created_at, at(10));
    EXPECT_EQ(live[0].expires_at, at(1000));
    EXPECT_EQ(live[0].user_agent, "Agent Zoë s1");
    EXPECT_EQ(live[0].address, "203.0.113.1");
    EXPECT_EQ(live[0].token_hash, "");                                 // never leaves the database layer
    EXPECT_EQ(list_live_sessions(s, "u1", at(60), at(4)).size(), 4u);  // s7 not idle yet
  });
}

TEST_P(repositories_test, a_sessions_use_is_written_only_when_the_recorded_one_is_old_enough) {
  write([](transaction& s) {
    insert_user(s, user("u1"));
    insert_session(s, {"s1", "u1", "hash1", at(100), at(10000), std::nullopt});
  });
  // Uses at 130, 161, 200, 230, 300 with "write if older than 60 s".
  std::vector<std::pair<int, bool>> uses = {{130, false}, {161, true}, {200, false}, {230, true}, {300, true}};
  std::vector<std::string> recorded;
  for (auto [second, writes] : uses) {
    write([&, second = second, writes = writes](transaction& s) {
      EXPECT_EQ(record_session_use(s, "s1", at(second), at(second - 60)), writes) << second;
      recorded.push_back(find_session_by_token_hash(s, "hash1")->last_used_at);
    });
  }
  EXPECT_EQ(recorded, (std::vector<std::string>{at(100), at(161), at(161), at(230), at(300)}));
  write([](transaction& s) {
    EXPECT_TRUE(revoke_session(s, "s1", at(301)));
    EXPECT_FALSE(record_session_use(s, "s1", at(400), at(340)));  // a revoked session is not touched
    EXPECT_FALSE(record_session_use(s, "nope", at(400), at(340)));
  });
}

TEST_P(repositories_test, only_the_owner_revokes_a_live_session_by_id_and_the_sweep_takes_idle_ones) {
  write([](transaction& s) {
    insert_user(s, user("u1"));
    insert_user(s, user("u2"));
    insert_session(s, {"s1", "u1", "hash1", at(10), at(1000), std::nullopt});
    insert_session(s, {"s2", "u1", "hash2", at(20), at(1000), std::nullopt});
    insert_session(s, {"s3", "u1", "hash3", at(0), at(1000), std::nullopt});
  });
  write([](transaction& s) {
    EXPECT_EQ(revoke_live_session_of_user(s, "s1", "u2", at(30), at(5)), std::nullopt);  // not u2's
    EXPECT_EQ(revoke_live_session_of_user(s, "s3", "u1", at(30), at(5)), std::nullopt);  // idle
    EXPECT_EQ(revoke_live_session_of_user(s, "s9", "u1", at(30), at(5)), std::nullopt);  // unknown
    EXPECT_EQ(revoke_live_session_of_user(s, "s1", "u1", at(30), at(5)), "hash1");
    EXPECT_EQ(revoke_live_session_of_user(s, "s1", "u1", at(31), at(5)), std::nullopt);    // once
    EXPECT_EQ(revoke_live_session_of_user(s, "s2", "u1", at(1000), at(5)), std::nullopt);  // expired
    EXPECT_FALSE(find_session_by_token_hash(s, "hash2")->revoked_at);
  });
  write([](transaction& s) {
    // At 40, idle when last used at or before 15: s3 (idle) and s1 (revoked
    // at 30) go, s2 stays.
    EXPECT_EQ(delete_stale_sessions(s, at(40), at(15)), 2);
    EXPECT_TRUE(find_session_by_token_hash(s, "hash2"));
    EXPECT_FALSE(find_session_by_token_hash(s, "hash3"));
  });
}

TEST_P(repositories_test, videos_list_newest_first_in_pages_with_a_status_filter) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_organization(s, {"o2", "Two", at(0)});
    insert_video(s, video("v1", "o1", 1, model::video_status::ready));
    insert_video(s, video("v2", "o1", 2));
    insert_video(s, video("v3b", "o1", 3, model::video_status::ready));
    insert_video(s, video("v3a", "o1", 3));  // same time: the id decides
    insert_video(s, video("v4", "o1", 4, model::video_status::ready));
    insert_video(s, video("w1", "o2", 5));
  });
  read([this](transaction& s) {
    auto first = list_videos(s, "o1", std::nullopt, std::nullopt, 2);
    EXPECT_EQ(ids(first), (std::vector<std::string>{"v4", "v3b", "v3a"}));  // limit + 1: there is a next page
    model::video_cursor after{first[1].created_at, first[1].id};
    EXPECT_EQ(ids(list_videos(s, "o1", std::nullopt, after, 2)), (std::vector<std::string>{"v3a", "v2", "v1"}));
    auto ready = model::video_status::ready;
    EXPECT_EQ(ids(list_videos(s, "o1", ready, std::nullopt, 10)), (std::vector<std::string>{"v4", "v3b", "v1"}));
    EXPECT_EQ(ids(list_videos(s, "o1", ready, after, 10)), (std::vector<std::string>{"v1"}));
    auto v = find_video(s, "o1", "v4");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->size_bytes, 5'000'000'000);
    EXPECT_EQ(v->renditions, "[]");
    EXPECT_FALSE(v->duration_sec);
    EXPECT_FALSE(find_video(s, "o2", "v4"));  // another tenant's
    EXPECT_EQ(find_video_any_org(s, "w1")->organization_id, "o2");
  });
  write([](transaction& s) {
    EXPECT_TRUE(update_video_text(s, "o1", "v4", std::nullopt, std::string("Described"), at(9)));
    EXPECT_FALSE(update_video_text(s, "o2", "v4", std::string("Nope"), std::nullopt, at(9)));
    auto v = find_video(s, "o1", "v4");
    EXPECT_EQ(v->title, "Title v4");
    EXPECT_EQ(v->description, "Described");
    EXPECT_EQ(v->updated_at, at(9));
    insert_job(s, job("j4", "o1", 9, "v4"));
    EXPECT_TRUE(delete_video(s, "o1", "v4"));
    EXPECT_FALSE(find_job(s, "j4"));  // its jobs go with it
    EXPECT_FALSE(delete_video(s, "o1", "v4"));
  });
}

TEST_P(repositories_test, a_single_statement_read_lists_videos_and_refuses_more_than_one_read) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_video(s, video("v1", "o1", 1));
    insert_video(s, video("v2", "o1", 2, model::video_status::ready));
  });
  std::vector<model::video> page;
  db_->read_statement([&](transaction& s) { page = list_videos(s, "o1", std::nullopt, std::nullopt, 20); });
  EXPECT_EQ(ids(page), (std::vector<std::string>{"v2", "v1"}));
  auto code_of = [this](const std::function<void(transaction&)>& fn) {
    try {
      db_->read_statement(fn);
    } catch (const db_error& e) {
      return e.code();
    }
    ADD_FAILURE() << "no db_error";
    return errc::unavailable;
  };
  EXPECT_EQ(code_of([](transaction& s) {
              list_videos(s, "o1", std::nullopt, std::nullopt, 20);
              find_video(s, "o1", "v1");
            }),
            errc::internal);
  EXPECT_EQ(code_of([](transaction& s) { update_video_text(s, "o1", "v1", std::string("Changed"), {}, at(5)); }),
            errc::internal);
  EXPECT_EQ(code_of([](transaction& s) { s.notify("jobs"); }), errc::internal);
  // On PostgreSQL, a failed statement that the read swallowed still fails it,
  // as the COMMIT of an aborted transaction does.
  if (GetParam() == std::string("postgresql")) {
    EXPECT_EQ(code_of([](transaction& s) {
                try {
                  s.query("SELECT nothing FROM nowhere");
                } catch (const db_error&) {
                }
              }),
              errc::internal);
  }
  read([](transaction& s) { EXPECT_EQ(find_video(s, "o1", "v1")->title, "Title v1"); });  // nothing written
  db_->read_statement(
      [&](transaction& s) { page = list_videos(s, "o1", model::video_status::ready, std::nullopt, 1); });
  EXPECT_EQ(ids(page), (std::vector<std::string>{"v2"}));
}

TEST_P(repositories_test, the_pipeline_fields_of_a_video_round_trip) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_video(s, video("v1", "o1", 1));
    set_video_status(s, "v1", model::video_status::processing, std::nullopt, at(2));
    set_video_progress(s, "v1", std::string("hls"), 33.333333333333336, at(3));
    set_video_probe(s, "v1", {123.456789012345, 3840, 2160, std::string("h264"), std::nullopt}, at(4));
  });
  read([](transaction& s) {
    auto v = find_video(s, "o1", "v1");
    EXPECT_EQ(v->status, model::video_status::processing);
    EXPECT_EQ(v->progress_stage, "hls");
    EXPECT_EQ(v->progress_percent, 33.333333333333336);  // doubles, not 4-byte floats
    EXPECT_EQ(v->duration_sec, 123.456789012345);
    EXPECT_EQ(v->width, 3840);
    EXPECT_EQ(v->height, 2160);
    EXPECT_EQ(v->video_codec, "h264");
    EXPECT_FALSE(v->audio_codec);
  });
  write([](transaction& s) {
    set_video_ready(s, "v1", R"([{"height":2160}])", at(5));
    auto v = find_video(s, "o1", "v1");
    EXPECT_EQ(v->status, model::video_status::ready);
    EXPECT_FALSE(v->progress_percent);
    EXPECT_EQ(v->ready_at, at(5));
    EXPECT_EQ(v->renditions, R"([{"height":2160}])");
    set_video_status(s, "v1", model::video_status::failed, std::string("It broke."), at(6));
    EXPECT_EQ(find_video(s, "o1", "v1")->error, "It broke.");
    reset_video_for_processing(s, "v1", at(7));
    v = find_video(s, "o1", "v1");
    EXPECT_EQ(v->status, model::video_status::queued);
    EXPECT_FALSE(v->error);
  });
}

// A list reads its rows in place (transaction::query_each), a find through
// row objects: the same video either way, every field.
TEST_P(repositories_test, a_listed_video_reads_as_the_found_one_field_for_field) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_user(s, user("u1"));
    model::video v = video("v1", "o1", 1);
    v.description = "Line one\nline \"two\" é";
    v.created_by = "u1";
    insert_video(s, v);
    insert_video(s, video("v2", "o1", 2));
    set_video_probe(s, "v1", {12.5, 1280, 720, std::string("h264"), std::string("aac")}, at(3));
    set_video_progress(s, "v1", std::string("hls"), 12.25, at(4));
    set_video_ready(s, "v1", R"([{"name":"720p","height":720}])", at(5));
    set_video_poster(s, "v1", 3.5, false, at(6));
    set_video_status(s, "v2", model::video_status::failed, std::string("It broke."), at(7));
  });
  read([](transaction& s) {
    auto listed = list_videos(s, "o1", std::nullopt, std::nullopt, 20);
    ASSERT_EQ(listed.size(), 2u);
    for (const auto& l : listed) {
      auto found = find_video(s, "o1", l.id);
      ASSERT_TRUE(found);
      std::string a, b;
      model::append_video_json(a, l);
      model::append_video_json(b, *found);
      EXPECT_EQ(a, b);
      EXPECT_EQ(l.content_type, found->content_type);
      EXPECT_EQ(l.outputs_bytes, found->outputs_bytes);
      EXPECT_EQ(l.playable_at, found->playable_at);
    }
    EXPECT_EQ(listed[1].description, "Line one\nline \"two\" é");
    EXPECT_EQ(listed[1].duration_sec, 12.5);
    EXPECT_EQ(listed[1].width, 1280);
    EXPECT_EQ(listed[1].audio_codec, "aac");
    EXPECT_EQ(listed[1].poster_time, 3.5);
    EXPECT_EQ(listed[1].poster_version, 1);
    EXPECT_EQ(listed[1].created_by, "u1");
    EXPECT_EQ(listed[1].size_bytes, 5'000'000'000);
    EXPECT_EQ(listed[0].error, "It broke.");
    EXPECT_FALSE(listed[0].duration_sec);
    EXPECT_FALSE(listed[0].created_by);
  });
}

// A list into rows kept from an earlier list (longer, shorter, with values
// where the new rows have NULLs) comes out as a fresh list, field for field.
TEST_P(repositories_test, a_list_into_reused_rows_equals_a_fresh_list) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_organization(s, {"o2", "Two", at(0)});
    insert_user(s, user("u1"));
    for (int i = 1; i <= 3; ++i) {
      model::video v = video("a" + std::to_string(i), "o1", i);
      v.description = std::string(40 * i, 'd');  // longer than a short string holds in place
      v.created_by = "u1";
      insert_video(s, v);
      set_video_probe(s, v.id, {12.5, 1280, 720, std::string("h264"), std::string("aac")}, at(i));
      set_video_progress(s, v.id, std::string("hls"), 50, at(i));
      set_video_status(s, v.id, model::video_status::failed, std::string("It broke, at length, for a test."), at(i));
    }
    insert_video(s, video("b1", "o2", 1));
    insert_video(s, video("b2", "o2", 2));
  });
  auto json_of = [](const std::vector<model::video>& vs) {
    std::string out;
    for (const auto& v : vs) {
      model::append_video_json(out, v);
      out += v.content_type + "|" + std::to_string(v.outputs_bytes.value_or(-1)) + "|" + v.playable_at.value_or("-");
    }
    return out;
  };
  read([&](transaction& s) {
    std::vector<model::video> rows;
    list_videos(s, "o1", std::nullopt, std::nullopt, 20, rows);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(json_of(rows), json_of(list_videos(s, "o1", std::nullopt, std::nullopt, 20)));
    // Fewer rows, NULLs where the old rows had text: nothing of them is left.
    list_videos(s, "o2", std::nullopt, std::nullopt, 20, rows);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(json_of(rows), json_of(list_videos(s, "o2", std::nullopt, std::nullopt, 20)));
    EXPECT_FALSE(rows[0].error);
    EXPECT_FALSE(rows[0].created_by);
    EXPECT_FALSE(rows[0].progress_stage);
    EXPECT_FALSE(rows[0].duration_sec);
    // More rows again, then none.
    list_videos(s, "o1", std::nullopt, std::nullopt, 20, rows);
    EXPECT_EQ(json_of(rows), json_of(list_videos(s, "o1", std::nullopt, std::nullopt, 20)));
    list_videos(s, "nobody", std::nullopt, std::nullopt, 20, rows);
    EXPECT_TRUE(rows.empty());
  });
}

// A row read in place has the types and the errors of a row object: an
// integer reads as a number and back, a mismatch or a column that is not
// there is db_error(internal), and a failure inside the visit leaves the
// connection usable.
TEST_P(repositories_test, rows_read_in_place_have_the_types_and_errors_of_rows) {
  constexpr const char* sql =
      "SELECT 7, 2.5, 'text', CAST(NULL AS INTEGER), CAST(NULL AS TEXT) UNION ALL SELECT 8, 3.5, 'more', 1, 'x'";
  auto code_of = [](const std::function<void()>& fn) {
    try {
      fn();
    } catch (const db_error& e) {
      return e.code();
    }
    ADD_FAILURE() << "no db_error";
    return errc::unavailable;
  };
  read([&](transaction& s) {
    std::vector<std::string> seen;
    s.query_each(sql, {}, [&](const row_view& r) {
      seen.push_back(std::to_string(r.int64(0)) + "|" + std::to_string(r.real(0)) + "|" + std::to_string(r.real(1)) +
                     "|" + std::to_string(r.int64(1)) + "|" + r.str(2) + "|" +
                     (r.opt_int64(3) ? std::to_string(*r.opt_int64(3)) : "null") + "|" +
                     r.opt_text(4).value_or("null"));
      EXPECT_FALSE(r.is_null(0));
      EXPECT_EQ(code_of([&] { r.text(0); }), errc::internal);
      EXPECT_EQ(code_of([&] { r.int64(2); }), errc::internal);
      EXPECT_EQ(code_of([&] { r.real(2); }), errc::internal);
      EXPECT_EQ(code_of([&] { r.int64(5); }), errc::internal);
      EXPECT_EQ(code_of([&] { r.text(99); }), errc::internal);
    });
    EXPECT_EQ(seen,
              (std::vector<std::string>{"7|7.000000|2.500000|2|text|null|null", "8|8.000000|3.500000|3|more|1|x"}));
    // Read as row objects, the same.
    auto rows = s.query(sql);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].int64(0), 7);
    EXPECT_EQ(rows[1].text(4), "x");
    EXPECT_TRUE(rows[0].is_null(3));
    EXPECT_EQ(code_of([&] { s.query_each(sql, {}, [](const row_view& r) { r.int64(3); }); }), errc::internal);
  });
  // The statement that failed mid-visit is not left running: the same one,
  // then a write, both go through.
  int calls = 0;
  EXPECT_THROW(read([&](transaction& s) {
                 s.query_each(sql, {}, [&](const row_view&) {
                   ++calls;
                   throw std::runtime_error("stop");
                 });
               }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  read([&](transaction& s) {
    int n = 0;
    s.query_each(sql, {}, [&](const row_view&) { ++n; });
    EXPECT_EQ(n, 2);
  });
  write([](transaction& s) { insert_organization(s, {"o1", "One", at(0)}); });
}

TEST_P(repositories_test, uploads_record_bytes_complete_and_expire) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_video(s, video("v1", "o1", 1, model::video_status::uploading));
    insert_video(s, video("v2", "o1", 1, model::video_status::uploading));
    model::upload u{"up1", "o1", "v1", std::nullopt, 6'000'000'000, 0, "filename dGVzdA==", at(1), at(1), at(50)};
    insert_upload(s, u);
    u.id = "up2";
    u.video_id = "v2";
    u.expires_at = at(40);
    insert_upload(s, u);
  });
  write([](transaction& s) {
    EXPECT_TRUE(set_upload_received(s, "up1", 3'000'000'000, at(2), at(60)));
    EXPECT_FALSE(set_upload_received(s, "nope", 1, at(2), at(60)));
    auto u = find_upload(s, "up1");
    EXPECT_EQ(u->received, 3'000'000'000);
    EXPECT_EQ(u->length, 6'000'000'000);
    EXPECT_EQ(u->metadata, "filename dGVzdA==");
    EXPECT_FALSE(u->completed_at);
    complete_upload(s, "up1", at(3), at(70));
    u = find_upload(s, "up1");
    EXPECT_EQ(u->received, u->length);
    EXPECT_EQ(u->completed_at, at(3));
  });
  EXPECT_EQ(failure_of([](transaction& s) { set_upload_received(s, "up2", 7'000'000'000, at(4), at(60)); }),
            errc::conflict);  // more than its length
  write([](transaction& s) {
    auto expired = expired_uploads(s, at(80), 10);
    ASSERT_EQ(expired.size(), 2u);
    EXPECT_EQ(expired[0].id, "up2");  // oldest expiry first
    EXPECT_EQ(expired_uploads(s, at(45), 10).size(), 1u);
    EXPECT_EQ(expired_uploads(s, at(80), 1).size(), 1u);
    delete_upload(s, "up2");
    EXPECT_FALSE(find_upload(s, "up2"));
  });
}

TEST_P(repositories_test, a_job_is_claimed_renewed_requeued_and_finished_by_its_owner_only) {
  write([](transaction& s) {
    insert_organization(s, {"o1", "One", at(0)});
    insert_video(s, video("v1", "o1", 1));
    insert_job(s, job("j1", "o1", 1, "v1"));
  });
  std::optional<model::job> j;
  write([&](transaction& s) {
    EXPECT_EQ(active_job_for_video(s, "v1")->id, "j1");
    j = claim_job(s, "w1", at(10), at(40));
    ASSERT_TRUE(j);
    EXPECT_EQ(j->state, model::job_state::running);
    EXPECT_EQ(j->attempts, 1);
    EXPECT_EQ(j->lease_owner, "w1");
    EXPECT_EQ(j->lease_expires_at, at(40));
    EXPECT_FALSE(claim_job(s, "w2", at(11), at(41)));  // leased
    EXPECT_FALSE(renew_lease(s, "j1", "w2", at(60)));
    EXPECT_TRUE(renew_lease(s, "j1", "w1", at(60)));
    EXPECT_FALSE(claim_job(s, "w2", at(50), at(80)));  // the renewed lease holds
    EXPECT_FALSE(requeue_job(s, "j1", "w2", "not mine", at(100), at(12)));
    EXPECT_TRUE(requeue_job(s, "j1", "w1", "ffmpeg crashed", at(100), at(12)));
    auto queued = find_job(s, "j1");
    EXPECT_EQ(queued->state, model::job_state::queued);
    EXPECT_EQ(queued->last_error, "ffmpeg crashed");
    EXPECT_FALSE(queued->lease_owner);
    EXPECT_FALSE(claim_job(s, "w2", at(99), at(130)));  // not due yet
    j = claim_job(s, "w2", at(100), at(130));
    ASSERT_TRUE(j);
    EXPECT_EQ(j->attempts, 2);
    EXPECT_FALSE(finish_job(s, "j1", "w1", model::job_state::succeeded, std::nullopt, at(101)));
    EXPECT_TRUE(finish_job(s, "j1", "w2", model::job_state::failed, std::string("Gave up."), at(101)));
    EXPECT_FALSE(finish_job(s, "j1", "w2", model::job_state::failed, std::string("Twice."), at(102)));
    auto done = find_job(s, "j1");
    EXPECT_EQ(done->state, model::job_state::failed);
    EXPECT_EQ(done->last_error, "Gave up.");
    EXPECT_FALSE(active_job_for_video(s, "v1"));
  });
  read([](transaction& s) {
    auto counts = count_jobs_by_state(s);
    ASSERT_EQ(counts.size(), 1u);
    EXPECT_EQ(counts[0].first, model::job_state::failed);
    EXPECT_EQ(counts[0].second, 1);
  });
}

TEST_P(repositories_test, claims_go_round_the_organizations_and_take_over_expired_leases) {
  write([](transaction& s) {
    int t = 1;
    for (auto [id, org] : {std::pair{"a1", "org-a"}, {"a2", "org-a"}, {"b1", "org-b"}, {"c1", "org-c"}})
      insert_job(s, job(id, org, t++));
  });
  write([](transaction& s) {
    auto claim = [&](int t, const std::string& after) -> std::string {
      auto j = claim_job(s, "w", at(t), at(t + 100), after);
      if (!j) return "none";
      if (j->id != "a1") finish_job(s, j->id, "w", model::job_state::succeeded, std::nullopt, at(t));
      return j->id;
    };
    auto dies = claim_job(s, "dies", at(10), at(20));  // a1, and then its worker dies
    ASSERT_TRUE(dies);
    EXPECT_EQ(dies->id, "a1");
    EXPECT_EQ(claim(11, "org-a"), "b1");
    EXPECT_EQ(claim(12, "org-b"), "c1");
    EXPECT_EQ(claim(13, "org-c"), "a2");    // org-a runs a1, but no one else waits
    EXPECT_EQ(claim(14, "org-a"), "none");  // a1's lease runs to second 20
    EXPECT_EQ(claim(21, "org-a"), "a1");
    auto taken = find_job(s, "a1");
    EXPECT_EQ(taken->lease_owner, "w");
    EXPECT_EQ(taken->attempts, 1);  // a takeover, not another attempt
    EXPECT_EQ(taken->takeovers, 1);
  });
}
