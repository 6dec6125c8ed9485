// The accounts records: users, organizations, their members with roles,
// and login sessions. Plain values: the database (src/db) stores them, the
// domain (src/domain) decides what may happen to them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::model {

// Organization roles, ordered: owner > admin > member > viewer.
enum class role { viewer = 0, member = 1, admin = 2, owner = 3 };

// "owner", "admin", "member", "viewer"; nullopt for anything else.
std::optional<role> parse_role(std::string_view text) noexcept;
std::string_view role_name(role r) noexcept;
inline bool at_least(role have, role need) noexcept { return static_cast<int>(have) >= static_cast<int>(need); }

struct user {
  std::string id, email, name, password_hash, created_at;
};

struct organization {
  std::string id, name, created_at;
  // Its public address (/o/<slug>): unique, lower-case letters, digits, '-'.
  std::string slug;
  // The origins whose pages may frame the embed player; empty: any site.
  std::vector<std::string> embed_origins;
  // Its storage limit in bytes (nullopt: none), and the bytes its videos
  // take (domain/quotas.hpp).
  std::optional<std::int64_t> storage_quota_bytes;
  std::int64_t storage_used_bytes = 0;
  // The MP4 downloads it offers (docs/api-downloads.md): of the HLS
  // renditions "none", "highest" or "all"; and the source-sized MP4 or not.
  std::string download_renditions = "highest";
  bool download_source = false;
};

// An organization as one of its members sees it.
struct membership {
  organization org;
  model::role role = role::viewer;
  std::string joined_at;
};

// A member as the organization sees them.
struct member {
  std::string user_id, email, name;
  model::role role = role::viewer;
  std::string joined_at;
};

// A login session: the token itself is never stored, only its hash.
// last_used_at is recorded at most once a minute (empty when inserting: the
// creation time); address and user_agent are the client's that opened it.
struct session_record {
  std::string id, user_id, token_hash, created_at, expires_at;
  std::optional<std::string> revoked_at;
  std::string last_used_at, address, user_agent;
};

}  // namespace reel::model
