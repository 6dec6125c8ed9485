// Copying a whole installation from one database into another (`reel db
// copy`): every table the migrations create, row for row and value for value.
#pragma once

#include "db/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reel::db {

// The tables of an installation: every table the migrations create but
// schema_migrations (a target gets that one by migrating) and transient_tables(). Parents come
// before children, the order their rows must go in.
const std::vector<std::string>& installation_tables();

// The tables the migrations create whose rows are not copied: live updates
// that are pruned within minutes (the events outbox).
const std::vector<std::string>& transient_tables();

// The refusal of a target that already holds rows (a db_error with errc::conflict).
class target_not_empty : public db_error {
 public:
  explicit target_not_empty(const std::string& table);
};

struct copied_table {
  std::string table;
  std::int64_t rows = 0;
};

// Copies every row of installation_tables() from `source` into `target`.
// `target` is migrated by this build beforehand; `source` must hold the same
// schema version. The source is read in one read transaction (one snapshot,
// so a server still writing to it cannot tear the copy) and the target is
// written in one write transaction: everything is copied, or nothing.
//
// Every column value arrives as stored: ids, timestamps as text, NULLs,
// integers and doubles exactly. Rows go in in a stable order, memberships in
// the order they were added (SQLite's rowid), so that PostgreSQL's identity
// column numbers them alike and the oldest membership stays first.
//
// Returns the rows copied per table, in installation_tables() order.
// Blocking; call it off any event loop. Throws db_error:
//  - target_not_empty when a table of the target already holds a row (nothing
//    is written; on PostgreSQL the tables are locked against writers until the
//    copy commits, so that no row can slip in behind the check);
//  - internal when the source is not a reel database at the target's schema
//    version, when a table's columns differ between the two, or when a value
//    cannot be stored exactly (text with a NUL character, a fraction in an
//    integer column); the message names the table;
//  - whatever either backend throws (unavailable, conflict for a row the
//    target's constraints refuse, internal for text that is not UTF-8 on
//    PostgreSQL), prefixed with the table being copied.
std::vector<copied_table> copy_installation(database& source, database& target);

}  // namespace reel::db
