// `reel videos list|show|delete`: the organization's videos from the
// command line, as a table for people or the API's JSON (--json) for scripts.
#pragma once

#include <string>
#include <vector>

namespace reel::cli {

// Runs `reel videos SUBCOMMAND ...` with the arguments after "videos".
// Returns 0 done, 1 failed (network, server, not logged in, declined), 2 bad usage.
int run_videos(const std::vector<std::string>& args);

std::string videos_usage();

}  // namespace reel::cli
