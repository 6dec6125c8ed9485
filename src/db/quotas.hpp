// Repository of organizations' storage accounting: the quota an operator
// sets and the bytes counted against it (organizations.storage_quota_bytes,
// storage_used_bytes), and the per-video byte counts it is the sum of
// (videos.size_bytes + videos.outputs_bytes). Each function runs inside the
// caller's transaction; db::delete_video releases a video's bytes itself.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reel::db {

struct storage_usage {
  std::int64_t used = 0;
  std::optional<std::int64_t> quota;  // nullopt: no limit
};

// nullopt for an unknown organization.
std::optional<storage_usage> find_storage_usage(transaction& s, const std::string& org_id);

// Adds `bytes` (> 0) to the organization's usage if the sum stays within its
// quota (or it has none), in one statement: concurrent charges on PostgreSQL
// wait for each other's row lock and re-check. false when it would not fit
// (nothing changed) or the organization does not exist.
bool charge_storage(transaction& s, const std::string& org_id, std::int64_t bytes);

// Adds `delta` (either sign) to the usage whatever the quota, never going
// below 0 (outputs stored, outputs replaced, files released).
void adjust_storage(transaction& s, const std::string& org_id, std::int64_t delta);

// Sets the quota (nullopt: none); false for an unknown organization.
bool set_storage_quota(transaction& s, const std::string& org_id, const std::optional<std::int64_t>& quota);
void set_storage_used(transaction& s, const std::string& org_id, std::int64_t used);

// Records the bytes of a video's stored outputs (nullopt: not measured).
void set_video_outputs_bytes(transaction& s, const std::string& video_id, const std::optional<std::int64_t>& bytes);

// What the usage is the sum of: each video's original (a resumable upload
// in progress counts its declared length) and measured outputs.
std::int64_t sum_video_storage(transaction& s, const std::string& org_id);

// The id of the organization whose id or public address (slug) is `name`.
std::optional<std::string> find_organization_id(transaction& s, const std::string& name);
// Every organization's id, in id order.
std::vector<std::string> organization_ids(transaction& s);

// A video's files as the rows know them, for a recount.
struct video_storage {
  std::string id;
  std::int64_t size_bytes = 0;
  std::optional<std::int64_t> outputs_bytes;
};
std::vector<video_storage> video_storage_of(transaction& s, const std::string& org_id);

}  // namespace reel::db
