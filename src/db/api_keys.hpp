// Repository of organizations' API keys. Each function runs inside the
// caller's transaction.
#pragma once

#include "db/database.hpp"
#include "model/api_keys.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

// Adds the key. Use a write transaction.
void insert_api_key(transaction& s, const model::api_key& k);

// The organization's keys, oldest first.
std::vector<model::api_key> list_api_keys(transaction& s, const std::string& org_id);

// The key whose secret hashes to `token_hash`, or nullopt.
std::optional<model::api_key> find_api_key_by_token_hash(transaction& s, const std::string& token_hash);

// Deletes key `id` of `org_id` and returns its token hash; nullopt when the
// organization has no such key.
std::optional<std::string> delete_api_key(transaction& s, const std::string& org_id, const std::string& id);

// Records that key `id` was used at `now`, unless a use after
// `recorded_before` is recorded already (another node's). False when nothing was written.
bool record_api_key_use(transaction& s, const std::string& id, const std::string& now,
                        const std::string& recorded_before);

}  // namespace reel::db
