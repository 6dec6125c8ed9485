// Numbered schema migrations, applied in order at start-up and by `reel migrate`.
#pragma once

#include "db/database.hpp"

namespace reel::db {

struct migration {
  int version;
  const char* name;
  std::vector<const char*> statements;
};

// Every migration this build knows, in order.
const std::vector<migration>& all_migrations();

// Applies the missing migrations in one write transaction (concurrent
// callers serialize on the write lock). Returns how many were applied.
// Throws db_error when the database holds a newer schema than this build.
int migrate(database& db, const std::string& now_iso);

// The newest version applied, 0 for an empty database.
int schema_version(database& db);

}  // namespace reel::db
