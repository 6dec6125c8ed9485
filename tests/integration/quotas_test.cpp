// Storage quotas (docs/api-quotas.md) against the real binary, on either
// backend: uploads past the quota are refused at once with nothing written,
// the usage follows uploads, processing, reprocessing and deletes and equals
// the bytes on disk, `reel org recount` repairs it, `reel org set-quota`
// sets the quota, owners cannot, and no organization sees another's usage.
#include "core/digest.hpp"
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"

#include "db/database.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_quota = 100'000;
const std::string k_boundary = "reelTestBoundary";

std::int64_t quotas_count_rows(const std::string& data_dir, const std::string& sql) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  std::int64_t n = 0;
  db->transact(false, [&](reel::db::transaction& s) { n = s.query_one(sql)->int64(0); });
  return n;
}

void exec_sql(const std::string& data_dir, const std::string& sql) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  db->transact(true, [&](reel::db::transaction& s) { s.exec(sql); });
}

// The bytes of every file under the organization's storage directory, once
// no processing work directory is left in it.
std::int64_t bytes_on_disk(const std::string& data_dir, const std::string& org_id) {
  fs::path root = fs::path(data_dir) / "orgs" / org_id;
  for (int i = 0; i < 100; ++i) {
    bool working = false;
    std::int64_t total = 0;
    if (fs::exists(root))
      for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (e.is_directory() && e.path().filename().string().starts_with("work-")) working = true;
        if (e.is_regular_file()) total += static_cast<std::int64_t>(e.file_size());
      }
    if (!working) return total;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("a work directory stayed");
}

// The organization `org_id` as `who` sees it in GET /api/orgs (null when absent).
json::value org_seen(unsigned short port, const account& who, const std::string& org_id) {
  auto r = call(port, "GET", "/api/orgs", who.token);
  if (r.status() != 200) throw std::runtime_error("GET /api/orgs: " + r.raw.body());
  for (const auto& o : r.json.at("organizations").as_array())
    if (o.at("id").as_string() == org_id) return o;
  return nullptr;
}

std::int64_t used_of(unsigned short port, const account& who) {
  return org_seen(port, who, who.org_id).at("storageUsedBytes").to_number<std::int64_t>();
}

// A multipart upload whose whole body is `body_length` bytes long.
api_reply upload_with_body_length(unsigned short port, const account& who, std::size_t body_length) {
  std::size_t framing = multipart_body(k_boundary, {}, "clip.mp4", "video/mp4", "").size();
  std::string body = multipart_body(k_boundary, {}, "clip.mp4", "video/mp4", random_bytes(body_length - framing, 3));
  EXPECT_EQ(body.size(), body_length);
  return call(port, "POST", "/api/videos", who.token, body,
              {{"Content-Type", "multipart/form-data; boundary=" + k_boundary}});
}

api_reply quotas_upload_raw(unsigned short port, const account& who, std::size_t size) {
  return call(port, "POST", "/api/videos?title=raw", who.token, random_bytes(size, 5), {{"Content-Type", "video/mp4"}});
}

api_reply tus_create(unsigned short port, const account& who, std::int64_t length) {
  return call(port, "POST", "/api/uploads", who.token, "",
              {{"Tus-Resumable", "1.0.0"},
               {"Upload-Length", std::to_string(length)},
               {"Upload-Metadata", "filename " + reel::base64_encode("clip.mp4")}});
}

std::string quotas_message_of(const api_reply& r) {
  return r.json.is_object() ? std::string(r.json.at("error").at("message").as_string()) : r.raw.body();
}

// `reel org ARGS` on the server's data directory and database.
std::pair<int, std::string> org_command(const std::string& data_dir, std::vector<std::string> args) {
  std::map<std::string, std::string> env;
  if (auto url = test_database_url(data_dir); !url.empty()) env["REEL_DATABASE_URL"] = url;
  args.insert(args.begin(), "org");
  args.insert(args.end(), {"--data-dir", data_dir});
  std::string out;
  int status = run_reel(args, env, out);
  return {status, out};
}

fs::path quotas_scratch() { return fs::temp_directory_path() / ("reel-quotas-" + std::to_string(::getpid())); }

// Nothing of a refused upload stays: no file in tmp/, no video row, no video directory.
void expect_nothing_written(const server_process& s, const account& who, std::int64_t videos_before) {
  EXPECT_EQ(files_in(fs::path(s.data_dir()) / "tmp"), 0u);
  EXPECT_EQ(quotas_count_rows(s.data_dir(), "SELECT COUNT(*) FROM videos WHERE organization_id = '" + who.org_id + "'"),
            videos_before);
  EXPECT_EQ(quotas_count_rows(s.data_dir(), "SELECT COUNT(*) FROM uploads"), 0);
  fs::path videos = fs::path(s.data_dir()) / "orgs" / who.org_id / "videos";
  std::int64_t dirs = 0;
  if (fs::exists(videos))
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(videos)) ++dirs;
  EXPECT_EQ(dirs, videos_before);
}

}  // namespace

TEST(quotas, new_organizations_get_the_default_quota_and_the_json_shows_it) {
  server_process s({"--workers", "0", "--default-org-quota-bytes", std::to_string(k_quota)});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  auto o = org_seen(s.port(), a, a.org_id);
  EXPECT_EQ(o.at("storageQuotaBytes").to_number<std::int64_t>(), k_quota);
  EXPECT_EQ(o.at("storageUsedBytes").to_number<std::int64_t>(), 0);
  auto made = call_json(s.port(), "POST", "/api/orgs", a.token, {{"name", "Second"}});
  ASSERT_EQ(made.status(), 201) << made.raw.body();
  EXPECT_EQ(made.json.at("organization").at("storageQuotaBytes").to_number<std::int64_t>(), k_quota);
  EXPECT_EQ(made.json.at("organization").at("storageUsedBytes").to_number<std::int64_t>(), 0);

  server_process unlimited({"--workers", "0"});
  auto b = register_account(unlimited.port(), "b@example.com", "Free");
  EXPECT_TRUE(org_seen(unlimited.port(), b, b.org_id).at("storageQuotaBytes").is_null());
}

TEST(quotas, a_multipart_upload_one_byte_over_is_refused_at_once_and_exactly_at_the_limit_accepted) {
  server_process s({"--workers", "0", "--default-org-quota-bytes", std::to_string(k_quota)});
  auto a = register_account(s.port(), "a@example.com", "Acme");

  auto over = upload_with_body_length(s.port(), a, k_quota + 1);
  EXPECT_EQ(over.status(), 413) << over.raw.body();
  EXPECT_EQ(over.error_code(), "payload_too_large");
  EXPECT_EQ(quotas_message_of(over), "storage quota exceeded: 0 B of 97.7 KiB used");
  expect_nothing_written(s, a, 0);
  EXPECT_EQ(used_of(s.port(), a), 0);

  auto exact = upload_with_body_length(s.port(), a, k_quota);
  ASSERT_EQ(exact.status(), 201) << exact.raw.body();
  std::int64_t file = exact.json.at("video").at("sizeBytes").to_number<std::int64_t>();
  EXPECT_EQ(used_of(s.port(), a), file);  // the file counts, not the form around it
  EXPECT_EQ(bytes_on_disk(s.data_dir(), a.org_id), file);
}

TEST(quotas, a_raw_upload_fills_the_quota_to_the_byte) {
  server_process s({"--workers", "0", "--default-org-quota-bytes", std::to_string(k_quota)});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  ASSERT_EQ(quotas_upload_raw(s.port(), a, 60'000).status(), 201);
  auto over = quotas_upload_raw(s.port(), a, 40'001);
  EXPECT_EQ(over.status(), 413) << over.raw.body();
  EXPECT_EQ(quotas_message_of(over), "storage quota exceeded: 58.6 KiB of 97.7 KiB used");
  expect_nothing_written(s, a, 1);
  ASSERT_EQ(quotas_upload_raw(s.port(), a, 40'000).status(), 201);
  EXPECT_EQ(used_of(s.port(), a), k_quota);
  EXPECT_EQ(quotas_upload_raw(s.port(), a, 1).status(), 413);
  EXPECT_EQ(bytes_on_disk(s.data_dir(), a.org_id), k_quota);
}

TEST(quotas, a_tus_creation_over_the_quota_is_refused_and_a_declared_length_is_reserved_until_it_goes) {
  server_process s({"--workers", "0", "--default-org-quota-bytes", std::to_string(k_quota)});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  auto over = tus_create(s.port(), a, k_quota + 1);
  EXPECT_EQ(over.status(), 413) << over.raw.body();
  EXPECT_EQ(over.error_code(), "payload_too_large");
  EXPECT_EQ(quotas_message_of(over), "storage quota exceeded: 0 B of 97.7 KiB used");
  expect_nothing_written(s, a, 0);

  auto first = tus_create(s.port(), a, 60'000);
  ASSERT_EQ(first.status(), 201) << first.raw.body();
  EXPECT_EQ(used_of(s.port(), a), 60'000);  // reserved before any byte came
  auto second = tus_create(s.port(), a, 40'001);
  EXPECT_EQ(second.status(), 413) << second.raw.body();
  auto fits = tus_create(s.port(), a, 40'000);
  ASSERT_EQ(fits.status(), 201) << fits.raw.body();
  EXPECT_EQ(used_of(s.port(), a), k_quota);
  // Terminating an unfinished upload gives its reservation back.
  auto gone = call(s.port(), "DELETE", first.header("Location"), a.token, "", {{"Tus-Resumable", "1.0.0"}});
  EXPECT_EQ(gone.status(), 204);
  EXPECT_EQ(used_of(s.port(), a), 40'000);
  // The bytes of the upload that stays complete it; the count stays its length.
  auto patch =
      call(s.port(), "PATCH", fits.header("Location"), a.token, random_bytes(40'000, 8),
           {{"Tus-Resumable", "1.0.0"}, {"Upload-Offset", "0"}, {"Content-Type", "application/offset+octet-stream"}});
  EXPECT_EQ(patch.status(), 204) << patch.raw.body();
  EXPECT_EQ(used_of(s.port(), a), 40'000);
  EXPECT_EQ(bytes_on_disk(s.data_dir(), a.org_id), 40'000);
}

TEST(quotas, usage_after_uploads_processing_reprocessing_and_deletes_equals_the_bytes_on_disk) {
  server_process s({"--workers", "1"});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  auto b = register_account(s.port(), "b@example.com", "Elsewhere");
  fs::create_directories(quotas_scratch());
  auto clip = make_clip((quotas_scratch() / "q.mp4").string(), {.seconds = 2, .width = 320, .height = 240});
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = upload(s.port(), a.token, clip);
    ASSERT_EQ(r.status(), 201) << r.raw.body();
    ids.emplace_back(r.json.at("video").at("id").as_string());
  }
  for (const auto& id : ids) EXPECT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  std::int64_t disk = bytes_on_disk(s.data_dir(), a.org_id);
  EXPECT_GT(disk, 2 * static_cast<std::int64_t>(clip.size()));  // the renditions count too
  EXPECT_EQ(used_of(s.port(), a), disk);

  auto again = call(s.port(), "POST", "/api/videos/" + ids[0] + "/reprocess", a.token);
  ASSERT_EQ(again.status(), 202) << again.raw.body();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(wait_for_processing(s.port(), a.token, ids[0]).at("status"), "ready");
  disk = bytes_on_disk(s.data_dir(), a.org_id);
  EXPECT_EQ(used_of(s.port(), a), disk);

  ASSERT_EQ(call(s.port(), "DELETE", "/api/videos/" + ids[0], a.token).status(), 204);
  disk = bytes_on_disk(s.data_dir(), a.org_id);
  EXPECT_EQ(used_of(s.port(), a), disk);
  ASSERT_EQ(call(s.port(), "DELETE", "/api/videos/" + ids[1], a.token).status(), 204);
  EXPECT_EQ(used_of(s.port(), a), 0);
  EXPECT_EQ(bytes_on_disk(s.data_dir(), a.org_id), 0);

  // Tenants: the other organization's usage was never its own, nor visible.
  EXPECT_EQ(used_of(s.port(), b), 0);
  EXPECT_TRUE(org_seen(s.port(), b, a.org_id).is_null());
  EXPECT_EQ(call(s.port(), "GET", "/api/orgs", "").status(), 401);
  fs::remove_all(quotas_scratch());
}

TEST(quotas, recount_repairs_a_wrong_number_and_set_quota_sets_the_quota) {
  server_process s({"--workers", "1"});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  auto b = register_account(s.port(), "b@example.com", "Elsewhere");
  fs::create_directories(quotas_scratch());
  auto clip = make_clip((quotas_scratch() / "r.mp4").string(), {.seconds = 2, .width = 320, .height = 240});
  auto r = upload(s.port(), a.token, clip);
  ASSERT_EQ(r.status(), 201) << r.raw.body();
  std::string id(r.json.at("video").at("id").as_string());
  EXPECT_EQ(wait_for_processing(s.port(), a.token, id).at("status"), "ready");
  std::int64_t disk = bytes_on_disk(s.data_dir(), a.org_id);

  // A wrong count, and outputs the rows do not know (as after a crash).
  exec_sql(s.data_dir(), "UPDATE organizations SET storage_used_bytes = 5 WHERE id = '" + a.org_id + "'");
  exec_sql(s.data_dir(), "UPDATE videos SET outputs_bytes = NULL");
  EXPECT_EQ(used_of(s.port(), a), 5);
  auto [status, out] = org_command(s.data_dir(), {"recount", a.org_id});
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("organization " + a.org_id + ": 5 -> " + std::to_string(disk) + " bytes"), std::string::npos)
      << out;
  EXPECT_EQ(used_of(s.port(), a), disk);
  EXPECT_EQ(used_of(s.port(), b), 0);
  // Every organization, when none is named; a right count stays.
  auto [all_status, all_out] = org_command(s.data_dir(), {"recount"});
  EXPECT_EQ(all_status, 0) << all_out;
  EXPECT_NE(all_out.find(a.org_id + ": " + std::to_string(disk) + " -> " + std::to_string(disk)), std::string::npos)
      << all_out;
  EXPECT_NE(all_out.find(b.org_id + ": 0 -> 0"), std::string::npos) << all_out;

  // set-quota, by id or by public address.
  auto set = org_command(s.data_dir(), {"set-quota", a.org_id, std::to_string(disk + 10)});
  EXPECT_EQ(set.first, 0) << set.second;
  EXPECT_EQ(org_seen(s.port(), a, a.org_id).at("storageQuotaBytes").to_number<std::int64_t>(), disk + 10);
  EXPECT_EQ(quotas_upload_raw(s.port(), a, 11).status(), 413);
  EXPECT_EQ(quotas_upload_raw(s.port(), a, 10).status(), 201);
  std::string slug(org_seen(s.port(), a, a.org_id).at("slug").as_string());
  auto none = org_command(s.data_dir(), {"set-quota", slug, "none"});
  EXPECT_EQ(none.first, 0) << none.second;
  EXPECT_TRUE(org_seen(s.port(), a, a.org_id).at("storageQuotaBytes").is_null());
  EXPECT_TRUE(org_seen(s.port(), b, b.org_id).at("storageQuotaBytes").is_null());
  auto units = org_command(s.data_dir(), {"set-quota", b.org_id, "2M"});
  EXPECT_EQ(units.first, 0) << units.second;
  EXPECT_EQ(org_seen(s.port(), b, b.org_id).at("storageQuotaBytes").to_number<std::int64_t>(), 2 << 20);

  EXPECT_EQ(org_command(s.data_dir(), {"set-quota", "no-such-org", "5"}).first, 1);
  EXPECT_EQ(org_command(s.data_dir(), {"set-quota", a.org_id, "lots"}).first, 2);
  EXPECT_EQ(org_command(s.data_dir(), {"set-quota", a.org_id}).first, 2);
  EXPECT_EQ(org_command(s.data_dir(), {"recount", "no-such-org"}).first, 1);
  fs::remove_all(quotas_scratch());
}

TEST(quotas, an_owner_cannot_change_the_quota_and_strangers_cannot_touch_it) {
  server_process s({"--workers", "0", "--default-org-quota-bytes", std::to_string(k_quota)});
  auto a = register_account(s.port(), "a@example.com", "Acme");
  auto b = register_account(s.port(), "b@example.com", "Elsewhere");
  auto raise = call_json(s.port(), "PATCH", "/api/orgs/" + a.org_id, a.token, {{"storageQuotaBytes", 1'000'000'000}});
  EXPECT_EQ(raise.status(), 403) << raise.raw.body();
  EXPECT_EQ(raise.error_code(), "forbidden");
  auto lift = call_json(s.port(), "PATCH", "/api/orgs/" + a.org_id, a.token,
                        {{"name", "Acme 2"}, {"storageQuotaBytes", nullptr}});
  EXPECT_EQ(lift.status(), 403) << lift.raw.body();
  EXPECT_EQ(org_seen(s.port(), a, a.org_id).at("storageQuotaBytes").to_number<std::int64_t>(), k_quota);
  EXPECT_EQ(org_seen(s.port(), a, a.org_id).at("name"), "Acme");
  // The settings that may change still do, and the answer carries the usage.
  auto rename = call_json(s.port(), "PATCH", "/api/orgs/" + a.org_id, a.token, {{"name", "Acme 2"}});
  ASSERT_EQ(rename.status(), 200) << rename.raw.body();
  EXPECT_EQ(rename.json.at("organization").at("storageQuotaBytes").to_number<std::int64_t>(), k_quota);
  EXPECT_EQ(rename.json.at("organization").at("storageUsedBytes").to_number<std::int64_t>(), 0);
  // Another organization's id: 403 as for every route naming an organization
  // one is not a member of (API.md); nobody signed in: 401.
  auto stranger = call_json(s.port(), "PATCH", "/api/orgs/" + a.org_id, b.token, {{"storageQuotaBytes", 1}});
  EXPECT_EQ(stranger.status(), 403);
  EXPECT_EQ(quotas_message_of(stranger), "You are not a member of this organization.");
  EXPECT_EQ(call_json(s.port(), "PATCH", "/api/orgs/" + a.org_id, "", {{"storageQuotaBytes", 1}}).status(), 401);
  // A revoked session: 401.
  ASSERT_EQ(call(s.port(), "POST", "/api/auth/logout", b.token).status(), 204);
  EXPECT_EQ(call(s.port(), "GET", "/api/orgs", b.token).status(), 401);
  // One organization's uploads never count against another's.
  ASSERT_EQ(quotas_upload_raw(s.port(), a, 1000).status(), 201);
  auto c = register_account(s.port(), "c@example.com", "Third");
  EXPECT_EQ(used_of(s.port(), c), 0);
  EXPECT_EQ(used_of(s.port(), a), 1000);
}
