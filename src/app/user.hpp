// The `reel user` commands, for operators: `reel user reset-password EMAIL`
// prints a one-time link to choose a new password (the reset path that needs
// no email server).
#pragma once

#include "core/config.hpp"
#include "domain/recovery.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace reel::app {

// Runs `reel user <args>` with the server's settings (environment and the
// flags after EMAIL: --data-dir, --database-url, --public-url, ...). Returns
// the exit code: 0 with the link on `out`; 1 when no account has the email
// or the database cannot be used (one sentence on `err`); 2 for a usage or
// configuration error. Blocking.
int run_user(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// Where people reach this service: REEL_PUBLIC_URL, else
// http://localhost:<port>.
std::string public_url_of(const config& cfg);

// Password recovery's settings from the config.
domain::recovery_settings recovery_settings_of(const config& cfg);

}  // namespace reel::app
