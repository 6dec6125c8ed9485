// docs/api-keys.md against the real binary: organization API keys are made,
// listed and revoked by admins and owners signed in; a key acts in its one
// organization with its role on the API, uploads (multipart and tus) and
// streams; it never manages keys, never acts as a person, sees nothing of
// another organization, and is refused on the very next request once revoked.
#include "core/digest.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// An organization with an owner, an admin, a member and a viewer; an admin
// whose session ended; and an outsider who owns another organization with
// a video in it.
struct keys_team {
  server_process server;
  account owner, admin, member, viewer, revoked, outsider;
  std::string outsider_video;
  keys_team() {
    auto p = port();
    owner = register_account(p, "owner@example.com", "Team");
    admin = register_account(p, "admin@example.com", "A");
    member = register_account(p, "member@example.com", "M");
    viewer = register_account(p, "viewer@example.com", "V");
    revoked = register_account(p, "revoked@example.com", "R");
    outsider = register_account(p, "outsider@example.com", "Elsewhere");
    for (auto [who, role] : {std::pair{&admin, "admin"}, {&member, "member"}, {&viewer, "viewer"}, {&revoked, "admin"}})
      invite_and_accept(p, owner, owner.org_id, *who, role);
    if (call(p, "POST", "/api/auth/logout", revoked.token).status() != 204) throw std::runtime_error("logout");
    auto up = call(p, "POST", "/api/videos?title=Theirs", outsider.token, random_bytes(5000, 1),
                   {{"Content-Type", "video/mp4"}});
    if (up.status() != 201) throw std::runtime_error("upload: " + up.raw.body());
    outsider_video = text(up.json.at("video"), "id");
  }
  unsigned short port() const { return server.port(); }
  std::string keys(const std::string& org) const { return "/api/orgs/" + org + "/api-keys"; }
  std::string keys() const { return keys(owner.org_id); }
  // A new key of the team's organization made by `by`; returns the reply.
  api_reply make_key(const account& by, const std::string& role, const std::string& name = "Backend") {
    return call_json(port(), "POST", keys(), by.token, {{"name", name}, {"role", role}});
  }
  // The secret of a new key of the team's organization with `role`.
  std::string key(const std::string& role) {
    auto r = make_key(owner, role, role + " key");
    if (r.status() != 201) throw std::runtime_error("key: " + r.raw.body());
    return text(r.json, "secret");
  }
  std::string key_id(const std::string& secret) {
    auto me = call(port(), "GET", "/api/auth/me", secret);
    return text(me.json.at("apiKey"), "id");
  }
  json::array listed() {
    auto r = call(port(), "GET", keys(), owner.token);
    if (r.status() != 200) throw std::runtime_error("list: " + r.raw.body());
    return r.json.at("apiKeys").as_array();
  }
};

class api_keys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] { team_ = new keys_team(); });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete team_; }
  static inline keys_team* team_ = nullptr;
};

bool base64url(const std::string& s) {
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

TEST_F(api_keys, an_admin_makes_a_key_whose_secret_is_shown_once_and_listed_by_its_prefix_only) {
  auto& t = *team_;
  auto made = t.make_key(t.admin, "member", "Encoder");
  ASSERT_EQ(made.status(), 201) << made.raw.body();
  EXPECT_EQ(made.header("Cache-Control"), "no-store");
  std::string secret = text(made.json, "secret");
  ASSERT_EQ(secret.size(), 51u) << secret;  // "reel_sk_" + 43 characters of base64url: 256 bits
  EXPECT_TRUE(secret.starts_with("reel_sk_"));
  EXPECT_TRUE(base64url(secret.substr(8))) << secret;
  const auto& key = made.json.at("apiKey");
  EXPECT_EQ(shape(key.as_object()), (std::set<std::string>{"id", "name", "role", "prefix", "createdBy", "createdBy.id",
                                                           "createdBy.name", "createdAt", "lastUsedAt"}));
  EXPECT_EQ(text(key, "name"), "Encoder");
  EXPECT_EQ(text(key, "role"), "member");
  EXPECT_EQ(text(key, "prefix"), secret.substr(0, 16));
  EXPECT_EQ(text(key.at("createdBy"), "id"), t.admin.user_id);
  EXPECT_TRUE(key.at("lastUsedAt").is_null());

  auto list = call(t.port(), "GET", t.keys(), t.owner.token);
  ASSERT_EQ(list.status(), 200) << list.raw.body();
  EXPECT_EQ(list.raw.body().find(secret), std::string::npos) << "the secret is never shown again";
  bool found = false;
  for (const auto& k : list.json.at("apiKeys").as_array())
    if (text(k, "id") == text(key, "id")) {
      found = true;
      EXPECT_EQ(json::serialize(k), json::serialize(key));
    }
  EXPECT_TRUE(found);
  // Two keys never share a secret.
  EXPECT_NE(text(t.make_key(t.owner, "viewer").json, "secret"), secret);
}

TEST_F(api_keys, bad_input_is_refused_with_the_field_named) {
  auto& t = *team_;
  struct bad {
    std::string body;
    std::string needle;
  };
  for (const auto& b : std::vector<bad>{{R"({"name":"K","role":"owner"})", "role"},
                                        {R"({"name":"K","role":"root"})", "role"},
                                        {R"({"name":"K"})", "role"},
                                        {R"({"role":"viewer"})", "name"},
                                        {R"({"name":"","role":"viewer"})", "name"},
                                        {R"({"name":42,"role":"viewer"})", "name"},
                                        {R"([1])", ""},
                                        {R"(not json)", ""}}) {
    auto r = call(t.port(), "POST", t.keys(), t.owner.token, b.body);
    EXPECT_EQ(r.status(), 400) << b.body << " → " << r.raw.body();
    EXPECT_EQ(r.error_code(), "bad_request") << b.body;
    EXPECT_NE(r.raw.body().find(b.needle), std::string::npos) << r.raw.body();
  }
}

TEST_F(api_keys, the_key_routes_refuse_other_tenants_anonymous_revoked_sessions_members_viewers_and_keys) {
  auto& t = *team_;
  std::string id = text(t.make_key(t.owner, "viewer").json.at("apiKey"), "id");
  std::string admin_key = t.key("admin");
  struct route {
    std::string method, path, body;
  };
  std::string body = R"({"name":"K","role":"viewer"})";
  for (const auto& r :
       std::vector<route>{{"POST", t.keys(), body}, {"GET", t.keys(), ""}, {"DELETE", t.keys() + "/" + id, ""}}) {
    std::string what = r.method + " " + r.path;
    EXPECT_EQ(call(t.port(), r.method, r.path, "", r.body).status(), 401) << what;
    EXPECT_EQ(call(t.port(), r.method, r.path, t.revoked.token, r.body).status(), 401) << what;
    EXPECT_EQ(call(t.port(), r.method, r.path, t.member.token, r.body).status(), 403) << what;
    EXPECT_EQ(call(t.port(), r.method, r.path, t.viewer.token, r.body).status(), 403) << what;
    EXPECT_EQ(call(t.port(), r.method, r.path, t.outsider.token, r.body).status(), 403) << what;
    auto by_key = call(t.port(), r.method, r.path, admin_key, r.body);
    EXPECT_EQ(by_key.status(), 403) << what;
    EXPECT_NE(by_key.raw.body().find("API keys cannot manage API keys"), std::string::npos) << by_key.raw.body();
  }
  // Another organization's admin, in their own organization: no such key there.
  auto elsewhere = call(t.port(), "DELETE", t.keys(t.outsider.org_id) + "/" + id, t.outsider.token);
  EXPECT_EQ(elsewhere.status(), 404) << elsewhere.raw.body();
  EXPECT_EQ(call(t.port(), "DELETE", t.keys() + "/no-such-key", t.owner.token).status(), 404);
  // The key outlived all of that.
  bool still = false;
  for (const auto& k : t.listed()) still = still || text(k, "id") == id;
  EXPECT_TRUE(still);
}

TEST_F(api_keys, a_viewer_key_reads_and_streams_but_cannot_upload) {
  auto& t = *team_;
  std::string key = t.key("viewer");
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", key).status(), 200);
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs/" + t.owner.org_id + "/members", key).status(), 200);
  auto multipart = upload(t.port(), key, random_bytes(1000, 2));
  EXPECT_EQ(multipart.status(), 403) << multipart.raw.body();
  auto raw = call(t.port(), "POST", "/api/videos", key, random_bytes(1000, 2), {{"Content-Type", "video/mp4"}});
  EXPECT_EQ(raw.status(), 403) << raw.raw.body();
  auto created = call(t.port(), "POST", "/api/uploads", key, "", tus({{"Upload-Length", "1000"}}));
  EXPECT_EQ(created.status(), 403) << created.raw.body();
}

TEST_F(api_keys, a_member_key_uploads_by_multipart_and_tus_and_streams_but_cannot_manage_members) {
  auto& t = *team_;
  std::string key = t.key("member");
  fs::path scratch = fs::path(t.server.data_dir()).parent_path() / "clips";
  fs::create_directories(scratch);
  std::string clip = make_clip((scratch / "k.mp4").string());
  auto up = upload(t.port(), key, clip, {{"title", "By key"}});
  ASSERT_EQ(up.status(), 201) << up.raw.body();
  std::string video = text(up.json.at("video"), "id");
  EXPECT_TRUE(up.json.at("video").at("createdBy").is_null()) << "a key is no person";
  auto done = wait_for_processing(t.port(), key, video);
  ASSERT_EQ(done.at("status"), "ready") << json::serialize(done);
  EXPECT_EQ(call(t.port(), "GET", "/api/stream/" + video + "/video", key, "", {{"Range", "bytes=0-99"}}).status(), 206);
  EXPECT_EQ(call(t.port(), "GET", "/api/stream/" + video + "/thumbnail.jpg", key).status(), 200);
  EXPECT_EQ(call(t.port(), "GET", "/api/stream/" + video + "/hls/master.m3u8", key).status(), 200);
  auto downloads = call(t.port(), "GET", "/api/videos/" + video + "/downloads", key);
  EXPECT_EQ(downloads.status(), 200) << downloads.raw.body();
  EXPECT_EQ(call(t.port(), "GET", "/api/videos/" + video, t.viewer.token, "", {{"X-Organization-Id", t.owner.org_id}})
                .status(),
            200);

  std::string bytes = random_bytes(3000, 3);
  auto created = call(t.port(), "POST", "/api/uploads", key, "",
                      tus({{"Upload-Length", std::to_string(bytes.size())},
                           {"Upload-Metadata", "filename " + reel::base64_encode("t.mp4")}}));
  ASSERT_EQ(created.status(), 201) << created.raw.body();
  std::string location = created.header("Location");
  auto patched = call(t.port(), "PATCH", location, key, bytes,
                      tus({{"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}}));
  EXPECT_EQ(patched.status(), 204) << patched.raw.body();
  EXPECT_EQ(call(t.port(), "HEAD", location, key, "", tus()).header("Upload-Offset"), std::to_string(bytes.size()));

  std::string members = "/api/orgs/" + t.owner.org_id + "/members";
  EXPECT_EQ(call_json(t.port(), "PATCH", members + "/" + t.viewer.user_id, key, {{"role", "member"}}).status(), 403);
  EXPECT_EQ(call(t.port(), "DELETE", members + "/" + t.viewer.user_id, key).status(), 403);
  EXPECT_EQ(call_json(t.port(), "POST", "/api/orgs/" + t.owner.org_id + "/invitations", key,
                      {{"email", "x@example.com"}, {"role", "viewer"}})
                .status(),
            403);
}

TEST_F(api_keys, an_admin_key_manages_members_up_to_admin_but_never_owners_and_never_keys) {
  auto& t = *team_;
  std::string key = t.key("admin");
  std::string org = "/api/orgs/" + t.owner.org_id;
  auto invited =
      call_json(t.port(), "POST", org + "/invitations", key, {{"email", "new@example.com"}, {"role", "admin"}});
  ASSERT_EQ(invited.status(), 202) << invited.raw.body();
  EXPECT_TRUE(invited.json.at("invitation").at("invitedBy").is_null());
  EXPECT_EQ(call_json(t.port(), "POST", org + "/invitations", key, {{"email", "boss@example.com"}, {"role", "owner"}})
                .status(),
            403);
  EXPECT_EQ(call_json(t.port(), "PATCH", org + "/members/" + t.viewer.user_id, key, {{"role", "owner"}}).status(), 403);
  EXPECT_EQ(call_json(t.port(), "PATCH", org + "/members/" + t.owner.user_id, key, {{"role", "viewer"}}).status(), 403);
  EXPECT_EQ(call(t.port(), "DELETE", org + "/members/" + t.owner.user_id, key).status(), 403);
  EXPECT_EQ(call(t.port(), "GET", t.keys(), key).status(), 403);
  EXPECT_EQ(call_json(t.port(), "POST", t.keys(), key, {{"name", "Child"}, {"role", "viewer"}}).status(), 403);
}

TEST_F(api_keys, a_key_is_no_person_me_describes_the_key_and_personal_routes_answer_403) {
  auto& t = *team_;
  std::string key = t.key("member");
  auto me = call(t.port(), "GET", "/api/auth/me", key);
  ASSERT_EQ(me.status(), 200) << me.raw.body();
  EXPECT_TRUE(me.json.at("user").is_null());
  EXPECT_EQ(text(me.json.at("apiKey"), "role"), "member");
  EXPECT_EQ(text(me.json.at("apiKey"), "prefix"), key.substr(0, 16));
  ASSERT_EQ(me.json.at("organizations").as_array().size(), 1u);
  EXPECT_EQ(text(me.json.at("organizations").at(0), "id"), t.owner.org_id);
  auto orgs = call(t.port(), "GET", "/api/orgs", key);
  ASSERT_EQ(orgs.status(), 200);
  ASSERT_EQ(orgs.json.at("organizations").as_array().size(), 1u);
  EXPECT_EQ(text(orgs.json.at("organizations").at(0), "role"), "member");

  struct route {
    std::string method, path, body;
  };
  for (const auto& r :
       std::vector<route>{{"POST", "/api/orgs", R"({"name":"Mine"})"},
                          {"POST", "/api/auth/logout", ""},
                          {"POST", "/api/auth/logout-all", ""},
                          {"POST", "/api/auth/password", R"({"currentPassword":"x","newPassword":"long enough pass"})"},
                          {"GET", "/api/auth/sessions", ""},
                          {"DELETE", "/api/auth/sessions/abc", ""},
                          {"GET", "/api/auth/invitations", ""},
                          {"POST", "/api/auth/invitations/abc/accept", ""},
                          {"POST", "/api/auth/invitations/abc/decline", ""}}) {
    auto reply = call(t.port(), r.method, r.path, key, r.body);
    EXPECT_EQ(reply.status(), 403) << r.method << " " << r.path << " → " << reply.raw.body();
    EXPECT_NE(reply.raw.body().find("API keys cannot"), std::string::npos) << reply.raw.body();
  }
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", key).status(), 200) << "still valid: logout did not end it";
}

TEST_F(api_keys, a_key_of_one_organization_sees_nothing_of_another) {
  auto& t = *team_;
  std::string key = t.key("admin");
  std::string theirs = t.outsider_video;
  EXPECT_EQ(call(t.port(), "GET", "/api/videos/" + theirs, key).status(), 404);
  EXPECT_EQ(call(t.port(), "PATCH", "/api/videos/" + theirs, key, R"({"title":"Mine"})").status(), 404);
  EXPECT_EQ(call(t.port(), "DELETE", "/api/videos/" + theirs, key).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/stream/" + theirs + "/video", key).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/stream/" + theirs + "/thumbnail.jpg", key).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/videos/" + theirs + "/downloads", key).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/videos/" + theirs + "/download", key).status(), 404);
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", key, "", {{"X-Organization-Id", t.outsider.org_id}}).status(), 403);
  EXPECT_EQ(call(t.port(), "GET", "/api/orgs/" + t.outsider.org_id + "/members", key).status(), 403);
  EXPECT_EQ(call(t.port(), "GET", t.keys(t.outsider.org_id), key).status(), 403);
  auto mine = call(t.port(), "GET", "/api/videos?limit=100", key);
  ASSERT_EQ(mine.status(), 200);
  EXPECT_EQ(mine.raw.body().find(theirs), std::string::npos);
  EXPECT_EQ(call(t.port(), "GET", "/api/videos/" + theirs, t.outsider.token).status(), 200) << "it exists";
}

TEST_F(api_keys, revoking_refuses_the_very_next_request_and_uses_are_recorded) {
  auto& t = *team_;
  std::string key = t.key("viewer");
  std::string id = t.key_id(key);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call(t.port(), "GET", "/api/videos", key).status(), 200);  // cached now
  std::string used;
  for (int i = 0; i < 100 && used.empty(); ++i) {  // written in the background
    for (const auto& k : t.listed())
      if (text(k, "id") == id && !k.at("lastUsedAt").is_null()) used = text(k, "lastUsedAt");
    if (used.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(used.empty()) << "lastUsedAt was never set";

  auto revoked = call(t.port(), "DELETE", t.keys() + "/" + id, t.admin.token);
  ASSERT_EQ(revoked.status(), 204) << revoked.raw.body();
  auto after = call(t.port(), "GET", "/api/videos", key);
  EXPECT_EQ(after.status(), 401) << after.raw.body();
  EXPECT_EQ(after.error_code(), "unauthorized");
  EXPECT_EQ(call(t.port(), "GET", "/api/auth/me", key).status(), 401);
  EXPECT_EQ(call(t.port(), "DELETE", t.keys() + "/" + id, t.admin.token).status(), 404);
  for (const auto& k : t.listed()) EXPECT_NE(text(k, "id"), id);
}

TEST_F(api_keys, malformed_and_unknown_keys_are_refused_alike) {
  auto& t = *team_;
  std::string key = t.key("viewer");
  std::string unknown = "reel_sk_" + std::string(43, 'A');
  std::string flipped = key;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  for (const auto& bad : {std::string("reel_sk_"), std::string("reel_sk_short"), unknown, flipped, key + "x",
                          "reel_sk_" + std::string(42, 'A') + "!", key.substr(8), "REEL_SK_" + key.substr(8)}) {
    auto r = call(t.port(), "GET", "/api/videos", bad);
    EXPECT_EQ(r.status(), 401) << bad;
    EXPECT_EQ(r.error_code(), "unauthorized") << bad;
  }
  EXPECT_EQ(call(t.port(), "GET", "/api/videos", key).status(), 200);
}
