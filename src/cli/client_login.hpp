// Which server the client commands talk to, and as whom: the flags, then
// the environment (REEL_SERVER, REEL_TOKEN, REEL_ORG), then the login that
// `reel login` stored. A pure function of those three, for tests.
#pragma once

#include "cli/credentials.hpp"
#include "cli/http_client.hpp"

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reel::cli {

// No credential for the server in question: the message says how to get one.
class not_logged_in : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct login_overrides {
  std::optional<std::string> server;  // --server
  std::optional<std::string> token;   // --token (reel upload only; deprecated)
  std::optional<std::string> org;     // --org
};

struct resolved_login {
  std::string server;  // normalized
  std::string token;
  credential_kind kind = credential_kind::session;
  std::string organization_id;  // empty: the server's default
  std::string source;           // where the token came from, for messages: "REEL_TOKEN", "--token", the file
};

// "http://host:8080/" → "http://host:8080"; throws usage_error for a URL
// that is not http(s)://host[:port][/base].
std::string normalize_server(const std::string& text);

// Decides the server, token and organization. A stored token is sent only
// to the server it was stored for: naming another server (flag or
// REEL_SERVER) without a token for it throws not_logged_in, as does having
// no token or no server at all. Throws usage_error for a bad server URL.
// `stored_path` names the file in messages.
resolved_login resolve_login(const login_overrides& flags, const std::map<std::string, std::string>& env,
                             const std::optional<credential>& stored, const std::string& stored_path);

// The Authorization and X-Organization-Id headers of `login`.
std::map<std::string, std::string> auth_headers(const resolved_login& login);

// Runs a client command's body, turning its exceptions into a message on
// stderr ("reel videos: ...") and the exit code: usage_error 2, anything
// else 1.
int run_client_command(const std::string& name, const std::function<int()>& body);

// Loads the stored login (credentials_path of the process environment) and
// resolves it with `flags`. Throws as resolve_login and load_credential do.
resolved_login current_login(const login_overrides& flags);

// Sends a request as `login` (a JSON body when `body` is not empty).
// Throws network_error when the server cannot be reached.
response call_api(http_client& client, const resolved_login& login, std::string_view method, const std::string& target,
                  const std::string& body = "");

// Throws std::runtime_error "WHAT: <the API's error message>", saying
// what to do about a 401.
[[noreturn]] void throw_api_error(const std::string& what, const response& r, const resolved_login& login);

}  // namespace reel::cli
