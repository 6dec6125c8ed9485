// Repository of password resets: the one-time links that let someone who
// forgot their password choose a new one. Only a token's SHA-256 is stored.
// Each function runs inside the caller's transaction.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace reel::db {

struct password_reset {
  std::string id;
  std::string user_id;
  std::string token_hash;
  std::string created_at;
  std::string expires_at;
};

// Records `r` and spends the user's earlier unused resets (their used_at
// becomes r.created_at): only the newest link works.
void insert_password_reset(transaction& s, const password_reset& r);

// Resets made for the user since `since` (spent and used ones too).
std::int64_t count_password_resets_since(transaction& s, const std::string& user_id, const std::string& since);

// Holds the user's row until the transaction ends, so that counting and
// adding resets are not interleaved by another process. A no-op where write
// transactions run one at a time (SQLite).
void lock_user(transaction& s, const std::string& user_id);

// The user whose reset has this hash when it is unused and expires after
// `now`; the reset stays as it is.
std::optional<std::string> find_live_password_reset(transaction& s, const std::string& token_hash,
                                                    const std::string& now);

// Spends the reset with this hash when it is unused and expires after `now`
// (used_at = now), in one statement: of concurrent redemptions on any
// backend and any node, exactly one gets the user's id; the others, and
// unknown, used or expired tokens, get nullopt.
std::optional<std::string> redeem_password_reset(transaction& s, const std::string& token_hash, const std::string& now);

// Removes resets that expired before `before`.
std::int64_t delete_stale_password_resets(transaction& s, const std::string& before);

}  // namespace reel::db
