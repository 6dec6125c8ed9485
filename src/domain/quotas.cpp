#include "domain/quotas.hpp"

#include "db/database.hpp"
#include "storage/blobs.hpp"

#include <cstdio>

namespace reel::domain {

namespace asio = boost::asio;

std::string format_bytes(std::int64_t bytes) {
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024;
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", v, units[u]);
  return text;
}

std::optional<std::optional<std::int64_t>> parse_quota(std::string_view text) {
  if (text == "none") return std::optional<std::int64_t>{};
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 18) return std::nullopt;
  std::int64_t n = std::stoll(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  if (unit.ends_with("iB")) unit.remove_suffix(2);
  int shift = 0;
  if (unit == "K")
    shift = 10;
  else if (unit == "M")
    shift = 20;
  else if (unit == "G")
    shift = 30;
  else if (unit == "T")
    shift = 40;
  else if (!unit.empty() && unit != "B")
    return std::nullopt;
  if (shift && n > (std::int64_t(1) << (62 - shift))) return std::nullopt;
  return std::optional<std::int64_t>{n << shift};
}

bool fits(const db::storage_usage& u, std::int64_t bytes) noexcept {
  return !u.quota || bytes <= 0 || (bytes <= *u.quota && u.used <= *u.quota - bytes);
}

error quota_exceeded(const db::storage_usage& u) {
  return error(errc::payload_too_large, "storage quota exceeded: " + format_bytes(u.used) + " of " +
                                            format_bytes(u.quota.value_or(0)) + " used");
}

void charge_within_quota(db::transaction& tx, const std::string& org_id, std::int64_t bytes) {
  if (bytes <= 0 || db::charge_storage(tx, org_id, bytes)) return;
  auto u = db::find_storage_usage(tx, org_id);
  if (!u) throw error(errc::not_found, "No such organization.");
  throw quota_exceeded(*u);
}

asio::awaitable<db::storage_usage> quotas::usage(const std::string& org_id) {
  auto u = co_await db_.read([&](db::transaction& tx) { return db::find_storage_usage(tx, org_id); });
  if (!u) throw error(errc::not_found, "No such organization.");
  co_return *u;
}

asio::awaitable<void> quotas::check_room(const std::string& org_id, std::int64_t bytes) {
  auto u = co_await usage(org_id);
  if (!fits(u, bytes)) throw quota_exceeded(u);
}

asio::awaitable<std::pair<std::string, db::storage_usage>> quotas::set_quota(const std::string& org,
                                                                             std::optional<std::int64_t> quota) {
  if (quota && *quota < 0) throw error(errc::bad_request, "A quota is a number of bytes, 0 or more.");
  auto set = [&](db::transaction& tx) -> std::optional<std::pair<std::string, db::storage_usage>> {
    auto id = db::find_organization_id(tx, org);
    if (!id) return std::nullopt;
    db::set_storage_quota(tx, *id, quota);
    return std::pair{*id, *db::find_storage_usage(tx, *id)};
  };
  auto out = co_await db_.write(set);
  if (!out) throw error(errc::not_found, "No organization has the id or address \"" + org + "\".");
  co_return std::move(*out);
}

asio::awaitable<std::vector<recount_result>> quotas::recount(const storage::layout& files,
                                                             std::optional<std::string> org) {
  std::vector<std::string> ids;
  if (org) {
    auto find = [&](db::transaction& tx) { return db::find_organization_id(tx, *org); };
    auto id = co_await db_.read(find);
    if (!id) throw error(errc::not_found, "No organization has the id or address \"" + *org + "\".");
    ids.push_back(*id);
  } else {
    ids = co_await db_.read([](db::transaction& tx) { return db::organization_ids(tx); });
  }
  std::vector<recount_result> out;
  for (const auto& id : ids) out.push_back(co_await recount_one(files, id));
  co_return out;
}

asio::awaitable<recount_result> quotas::recount_one(const storage::layout& files, const std::string& org_id) {
  auto videos = co_await db_.read([&](db::transaction& tx) { return db::video_storage_of(tx, org_id); });
  // The outputs on disk now (the files, not the rows, are the truth).
  auto measure = [&files, &videos, &org_id] {
    std::vector<std::int64_t> sizes;
    for (const auto& v : videos)
      sizes.push_back(static_cast<std::int64_t>(storage::outputs_size(files.video_dir(org_id, v.id))));
    return sizes;
  };
  std::vector<std::int64_t> sizes = co_await pool_.offload(measure);
  auto record = [&](db::transaction& tx) {
    recount_result r{org_id, db::find_storage_usage(tx, org_id).value_or(db::storage_usage{}).used, 0};
    for (std::size_t i = 0; i < videos.size(); ++i) db::set_video_outputs_bytes(tx, videos[i].id, sizes[i]);
    r.after = db::sum_video_storage(tx, org_id);
    db::set_storage_used(tx, org_id, r.after);
    return r;
  };
  co_return co_await db_.write(record);
}

}  // namespace reel::domain
