// `reel upload FILE --server URL --token TOKEN [--title T] [--wait] ...`:
// uploads a file with tus (docs/API.md "Resumable uploads"), showing its
// progress, resuming an interrupted upload of the same file, and optionally
// following its processing to `ready` or `failed`.
#pragma once

#include <string>
#include <vector>

namespace reel::cli {

// Runs the command with the arguments after "upload". Returns the exit
// code: 0 done, 1 failed (network, server, processing), 2 bad usage.
int run_upload(const std::vector<std::string>& args);

// The usage text of `reel upload`.
std::string upload_usage();

}  // namespace reel::cli
