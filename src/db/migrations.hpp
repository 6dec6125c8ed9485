// Numbered schema migrations, applied in order at start-up and by `reel migrate`.
#pragma once

#include "db/database.hpp"

namespace reel::db {

// One statement of a migration, in SQLite's dialect; `postgres` holds
// PostgreSQL's form where it differs in more than column types.
struct statement {
  statement(const char* both) : sql(both) {}
  statement(const char* sqlite, const char* postgres) : sql(sqlite), postgres(postgres) {}
  // The form for `backend`: on PostgreSQL, `postgres` if given, else `sql`
  // with SQLite's 64-bit INTEGER and 8-byte REAL columns named as
  // PostgreSQL names them (BIGINT, DOUBLE PRECISION).
  std::string for_backend(std::string_view backend) const;

  const char* sql;
  const char* postgres = nullptr;
};

struct migration {
  int version;
  const char* name;
  std::vector<statement> statements;
};

// Every migration this build knows, in order.
const std::vector<migration>& all_migrations();

// Applies the missing migrations in one write transaction (concurrent
// callers serialize on the write lock in SQLite, on an advisory lock in
// PostgreSQL: each migration is applied once). Returns how many were applied.
// Throws db_error when the database holds a newer schema than this build.
int migrate(database& db, const std::string& now_iso);

// The newest version applied, 0 for an empty database.
int schema_version(database& db);

}  // namespace reel::db
