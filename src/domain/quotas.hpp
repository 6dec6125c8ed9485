// Storage quotas: an organization may store at most its quota (set by an
// operator, `reel org set-quota`; new organizations get
// REEL_DEFAULT_ORG_QUOTA_BYTES) of originals and processing outputs. The
// count lives in the database (organizations.storage_used_bytes), changed
// in the transactions that add and remove the files' rows, so every node
// and both backends see the same numbers:
//   - a video added from a complete upload charges its size, a resumable
//     upload its declared Upload-Length at creation (reserved until it
//     completes or goes); either is refused when it would exceed the quota;
//   - stored processing outputs charge their measured size (replacing the
//     previous outputs' count), never refused: a video already accepted is
//     always processed, and may take the usage past the quota;
//   - deleting a video (or an upload that ends unfinished) releases its bytes.
// Coroutines on the loop thread; the database on the pool.
#pragma once

#include "core/errors.hpp"
#include "core/offload.hpp"
#include "db/quotas.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::db {
class gateway;
}
namespace reel::storage {
class layout;
}

namespace reel::domain {

// A size for people: "512 B", "1.5 KiB", "20.0 MiB", "3.2 GiB".
std::string format_bytes(std::int64_t bytes);

// An operator's quota: "none" (no limit), a number of bytes, or one with a
// binary unit ("500M", "10GiB", "1T": K, M, G, T with an optional "iB").
// The outer nullopt: not a quota.
std::optional<std::optional<std::int64_t>> parse_quota(std::string_view text);

// Whether `bytes` more fit in `u`.
bool fits(const db::storage_usage& u, std::int64_t bytes) noexcept;

// error(payload_too_large) "storage quota exceeded: X of Y used".
error quota_exceeded(const db::storage_usage& u);

// Charges `bytes` to the organization in the caller's write transaction;
// throws quota_exceeded (nothing charged) when they do not fit.
void charge_within_quota(db::transaction& tx, const std::string& org_id, std::int64_t bytes);

// What a recount found for one organization.
struct recount_result {
  std::string org_id;
  std::int64_t before = 0, after = 0;
};

class quotas {
 public:
  quotas(db::gateway& db, worker_pool& pool) : db_(db), pool_(pool) {}

  // The organization's usage; error(not_found) for an unknown one.
  boost::asio::awaitable<db::storage_usage> usage(const std::string& org_id);

  // Throws quota_exceeded when `bytes` more would not fit: the check made
  // before anything is written. (The charge in the transaction that adds
  // the row decides, so that concurrent uploads cannot both fit.)
  boost::asio::awaitable<void> check_room(const std::string& org_id, std::int64_t bytes);

  // Operators: sets the quota of the organization whose id or slug is
  // `org` (nullopt: none); returns its id and usage. error(not_found).
  boost::asio::awaitable<std::pair<std::string, db::storage_usage>> set_quota(const std::string& org,
                                                                              std::optional<std::int64_t> quota);

  // Operators: measures again the outputs of every video of `org` (every
  // organization when nullopt) in `files`, records them, and sets the usage
  // to the sum over the videos' rows (originals as recorded, outputs as
  // measured). error(not_found) for an unknown organization.
  boost::asio::awaitable<std::vector<recount_result>> recount(const storage::layout& files,
                                                              std::optional<std::string> org);

 private:
  boost::asio::awaitable<recount_result> recount_one(const storage::layout& files, const std::string& org_id);

  db::gateway& db_;
  worker_pool& pool_;
};

}  // namespace reel::domain
