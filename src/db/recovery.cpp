#include "db/recovery.hpp"

namespace reel::db {

namespace {

constexpr const char* k_spend_older = "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL";
constexpr const char* k_insert_recovery =
    "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
constexpr const char* k_count_since = "SELECT COUNT(*) FROM password_resets WHERE user_id = ? AND created_at >= ?";
constexpr const char* k_lock_user = "SELECT id FROM users WHERE id = ? FOR UPDATE";
constexpr const char* k_find_live =
    "SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?";
constexpr const char* k_redeem =
    "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? "
    "RETURNING user_id";
constexpr const char* k_delete_stale = "DELETE FROM password_resets WHERE expires_at < ?";

}  // namespace

void insert_password_reset(transaction& s, const password_reset& r) {
  s.exec(k_spend_older, {r.created_at, r.user_id});
  s.exec(k_insert_recovery, {r.id, r.user_id, r.token_hash, r.created_at, r.expires_at});
}

std::int64_t count_password_resets_since(transaction& s, const std::string& user_id, const std::string& since) {
  return s.query_one(k_count_since, {user_id, since})->int64(0);
}

void lock_user(transaction& s, const std::string& user_id) {
  if (s.locks_rows()) s.query(k_lock_user, {user_id});
}

std::optional<std::string> find_live_password_reset(transaction& s, const std::string& token_hash,
                                                    const std::string& now) {
  auto r = s.query_one(k_find_live, {token_hash, now});
  if (!r) return std::nullopt;
  return r->text(0);
}

std::optional<std::string> redeem_password_reset(transaction& s, const std::string& token_hash,
                                                 const std::string& now) {
  auto r = s.query_one(k_redeem, {now, token_hash, now});
  if (!r) return std::nullopt;
  return r->text(0);
}

std::int64_t delete_stale_password_resets(transaction& s, const std::string& before) {
  return s.exec(k_delete_stale, {before});
}

}  // namespace reel::db
