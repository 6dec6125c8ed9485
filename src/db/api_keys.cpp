#include "db/api_keys.hpp"

#include "db/columns.hpp"

namespace reel::db {

namespace {

#define REEL_API_KEY_COLUMNS "id, organization_id, name, role, prefix, token_hash, created_by, created_at, last_used_at"
#define REEL_API_KEY_COLUMNS_OF_K \
  "k.id, k.organization_id, k.name, k.role, k.prefix, k.token_hash, k.created_by, k.created_at, k.last_used_at"

constexpr const char* k_insert_api_keys =
    "INSERT INTO api_keys (" REEL_API_KEY_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* k_list_api_keys = "SELECT " REEL_API_KEY_COLUMNS_OF_K
                                        ", u.name FROM api_keys k LEFT JOIN users u ON u.id = k.created_by "
                                        "WHERE k.organization_id = ? ORDER BY k.created_at, k.id";
constexpr const char* k_by_hash = "SELECT " REEL_API_KEY_COLUMNS " FROM api_keys WHERE token_hash = ?";
constexpr const char* k_delete_api_keys =
    "DELETE FROM api_keys WHERE organization_id = ? AND id = ? RETURNING token_hash";
constexpr const char* k_record_use =
    "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)";

#undef REEL_API_KEY_COLUMNS
#undef REEL_API_KEY_COLUMNS_OF_K

model::api_key to_api_key(const row& r) {
  model::api_key k;
  k.id = r.text(0);
  k.organization_id = r.text(1);
  k.name = r.text(2);
  k.role = role_column(r, 3);
  k.prefix = r.text(4);
  k.token_hash = r.text(5);
  k.created_by = r.opt_text(6);
  k.created_at = r.text(7);
  k.last_used_at = r.opt_text(8);
  return k;
}

}  // namespace

void insert_api_key(transaction& s, const model::api_key& k) {
  s.exec(k_insert_api_keys, {k.id, k.organization_id, k.name, model::role_name(k.role), k.prefix, k.token_hash,
                             value(k.created_by), k.created_at, value(k.last_used_at)});
}

std::vector<model::api_key> list_api_keys(transaction& s, const std::string& org_id) {
  std::vector<model::api_key> out;
  for (const auto& r : s.query(k_list_api_keys, {org_id})) {
    out.push_back(to_api_key(r));
    out.back().creator_name = r.opt_text(9);
  }
  return out;
}

std::optional<model::api_key> find_api_key_by_token_hash(transaction& s, const std::string& token_hash) {
  auto r = s.query_one(k_by_hash, {token_hash});
  if (!r) return std::nullopt;
  return to_api_key(*r);
}

std::optional<std::string> delete_api_key(transaction& s, const std::string& org_id, const std::string& id) {
  auto r = s.query_one(k_delete_api_keys, {org_id, id});
  if (!r) return std::nullopt;
  return r->text(0);
}

bool record_api_key_use(transaction& s, const std::string& id, const std::string& now,
                        const std::string& recorded_before) {
  return s.exec(k_record_use, {now, id, recorded_before}) > 0;
}

}  // namespace reel::db
