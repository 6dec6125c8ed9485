// The `reel db` commands: `reel db copy`, which moves an installation from
// SQLite into an empty PostgreSQL database.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace reel::app {

// Runs `reel db <args>`. `copy --from SQLITE --to POSTGRES` migrates the
// target, copies every table into it in one transaction and prints the rows
// copied per table to `out`. Returns the exit code: 0 done, 1 when the copy
// cannot be made (the source cannot be read, the target cannot be reached or
// holds rows, a value cannot be copied: one sentence on `err`, the target
// left as it was, never a password), 2 for a usage error. Blocking.
int run_db(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace reel::app
