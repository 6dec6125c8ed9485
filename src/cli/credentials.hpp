// The stored login of the command-line client: one credential (a session
// token or an organization API key for one server) in
// $XDG_CONFIG_HOME/reel/credentials (default ~/.config/reel/credentials),
// a JSON file that only its owner can read (mode 0600, directory 0700),
// always replaced whole (a temporary file renamed over it), never edited
// in place.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace reel::cli {

// The credentials file cannot be found, read, parsed or written; the
// message names the file and says what to do.
class credentials_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class credential_kind { session, api_key };

struct credential {
  std::string server;  // "http://host:port[/base]", no trailing slash
  std::string token;   // a session token, or an API key "reel_sk_..."
  credential_kind kind = credential_kind::session;
  std::string organization_id;  // sent as X-Organization-Id; empty: the server's default
  std::string email;            // who logged in (session logins), for whoami

  bool operator==(const credential&) const = default;
};

// An API key is told from a session token by its prefix.
bool is_api_key(const std::string& token);

// Where the file lives under `env` (the process environment): XDG_CONFIG_HOME
// when it is set to an absolute path (the XDG rule: a relative one is
// ignored), else HOME/.config. Throws credentials_error when neither is usable.
std::filesystem::path credentials_path(const std::map<std::string, std::string>& env);

// The file's JSON, and back. parse_credential throws credentials_error
// (naming `path`) for anything that is not a credential this client wrote.
std::string credential_json(const credential& c);
credential parse_credential(const std::string& text, const std::filesystem::path& path);

// The stored credential; nullopt when there is no file. Throws
// credentials_error when the file cannot be read or is not valid.
// Writes a warning to stderr when others may read it.
std::optional<credential> load_credential(const std::filesystem::path& path);

// Stores `c` at `path`, replacing what was there: the directory is made
// 0700 when missing, the data goes into a new 0600 file in it (O_EXCL,
// so it is never readable by others, not even for a moment), which is
// flushed and renamed over `path`. A crash leaves the old file or the new
// one, never a mix. Throws credentials_error.
void save_credential(const std::filesystem::path& path, const credential& c);

// Deletes the file. Returns false when there was none; throws credentials_error.
bool remove_credential(const std::filesystem::path& path);

}  // namespace reel::cli
