// The `reel serve` command: the composition root of the server process.
#pragma once

#include "core/config.hpp"

#include <iosfwd>

namespace reel::app {

// Runs the server until SIGINT/SIGTERM and a graceful shutdown. Returns the
// process exit code. Throws config_error for a setting that turns out
// unusable at start-up (data dir, listen address).
int run_serve(const config& cfg);

// `reel serve --print-routes`: builds the server's routes exactly as `reel
// serve` does (in a temporary data directory, with SQLite, without Redis or
// email), prints one `METHOD PATTERN` line per route to `out` and returns
// without listening. The test of docs/openapi.json compares them with it.
int run_print_routes(const config& cfg, std::ostream& out);

// The `reel worker` command: processing workers only, against the same
// database and data directory as the server.
int run_worker(const config& cfg);

// The `reel migrate` command: applies the schema migrations and exits.
int run_migrate(const config& cfg);

}  // namespace reel::app
