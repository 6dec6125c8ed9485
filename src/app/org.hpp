// The `reel org` commands, for operators: `reel org set-quota ORG BYTES|none`
// sets an organization's storage quota (its owners cannot), and
// `reel org recount [ORG]` measures its processing outputs on disk again and
// recomputes its storage usage (every organization without ORG), printing
// the usage before and after. ORG is an organization's id or public address.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace reel::app {

// Runs `reel org <args>` with the server's settings (environment and the
// flags after the arguments: --data-dir, --database-url, --storage-dir, ...).
// Returns the exit code: 0 with the result on `out`; 1 when the organization
// does not exist or the database cannot be used (one sentence on `err`); 2
// for a usage or configuration error. Blocking.
int run_org(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace reel::app
