#include "db/quotas.hpp"

namespace reel::db {

namespace {

constexpr const char* k_usage = "SELECT storage_used_bytes, storage_quota_bytes FROM organizations WHERE id = ?";
constexpr const char* k_charge =
    "UPDATE organizations SET storage_used_bytes = storage_used_bytes + ? WHERE id = ? AND "
    "(storage_quota_bytes IS NULL OR storage_used_bytes + ? <= storage_quota_bytes)";
constexpr const char* k_adjust =
    "UPDATE organizations SET storage_used_bytes = CASE WHEN storage_used_bytes + ? < 0 THEN 0 "
    "ELSE storage_used_bytes + ? END WHERE id = ?";
constexpr const char* k_set_quota = "UPDATE organizations SET storage_quota_bytes = ? WHERE id = ?";
constexpr const char* k_set_used = "UPDATE organizations SET storage_used_bytes = ? WHERE id = ?";
constexpr const char* k_set_outputs = "UPDATE videos SET outputs_bytes = ? WHERE id = ?";
constexpr const char* k_sum =
    "SELECT COALESCE(SUM(size_bytes + COALESCE(outputs_bytes, 0)), 0) FROM videos WHERE organization_id = ?";
constexpr const char* k_org_by_name = "SELECT id FROM organizations WHERE id = ? OR slug = ? ORDER BY id = ? DESC";
constexpr const char* k_org_ids = "SELECT id FROM organizations ORDER BY id";
constexpr const char* k_video_storage =
    "SELECT id, size_bytes, outputs_bytes FROM videos WHERE organization_id = ? ORDER BY id";

}  // namespace

std::optional<storage_usage> find_storage_usage(transaction& s, const std::string& org_id) {
  auto r = s.query_one(k_usage, {org_id});
  if (!r) return std::nullopt;
  return storage_usage{r->int64(0), r->opt_int64(1)};
}

bool charge_storage(transaction& s, const std::string& org_id, std::int64_t bytes) {
  return s.exec(k_charge, {bytes, org_id, bytes}) > 0;
}

void adjust_storage(transaction& s, const std::string& org_id, std::int64_t delta) {
  if (delta != 0) s.exec(k_adjust, {delta, delta, org_id});
}

bool set_storage_quota(transaction& s, const std::string& org_id, const std::optional<std::int64_t>& quota) {
  return s.exec(k_set_quota, {quota, org_id}) > 0;
}

void set_storage_used(transaction& s, const std::string& org_id, std::int64_t used) {
  s.exec(k_set_used, {used, org_id});
}

void set_video_outputs_bytes(transaction& s, const std::string& video_id, const std::optional<std::int64_t>& bytes) {
  s.exec(k_set_outputs, {bytes, video_id});
}

std::int64_t sum_video_storage(transaction& s, const std::string& org_id) {
  return s.query_one(k_sum, {org_id})->int64(0);
}

std::optional<std::string> find_organization_id(transaction& s, const std::string& name) {
  auto r = s.query_one(k_org_by_name, {name, name, name});
  if (!r) return std::nullopt;
  return r->text(0);
}

std::vector<std::string> organization_ids(transaction& s) {
  std::vector<std::string> out;
  for (const auto& r : s.query(k_org_ids)) out.push_back(r.text(0));
  return out;
}

std::vector<video_storage> video_storage_of(transaction& s, const std::string& org_id) {
  std::vector<video_storage> out;
  for (const auto& r : s.query(k_video_storage, {org_id})) out.push_back({r.text(0), r.int64(1), r.opt_int64(2)});
  return out;
}

}  // namespace reel::db
