// `reel login`, `reel logout`, `reel whoami`: signing the command-line
// client in and out of a server (docs/API.md "Command-line client").
#pragma once

#include <string>
#include <vector>

namespace reel::cli {

// Each runs the command with the arguments after its name and returns the
// exit code: 0 done, 1 failed (network, server, refused credentials), 2 bad usage.
int run_login(const std::vector<std::string>& args);
int run_logout(const std::vector<std::string>& args);
int run_whoami(const std::vector<std::string>& args);

std::string login_usage();
std::string logout_usage();
std::string whoami_usage();

}  // namespace reel::cli
