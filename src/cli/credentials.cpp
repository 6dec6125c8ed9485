#include "cli/credentials.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

namespace reel::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::int64_t k_format_version = 1;

std::string system_reason() { return std::strerror(errno); }

// Makes missing directories down to `dir` with mode 0700 (the XDG rule for
// its base directories); `dir` itself, which holds secrets, is narrowed to
// 0700 when it exists with more.
void make_private_dir(const fs::path& dir, bool narrow) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw credentials_error(dir.string() + " is not a directory.");
    if (narrow && (st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
      throw credentials_error("Cannot make " + dir.string() + " private: " + system_reason() + ".");
    return;
  }
  if (dir.has_parent_path() && dir.parent_path() != dir) make_private_dir(dir.parent_path(), false);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw credentials_error("Cannot create " + dir.string() + ": " + system_reason() + ".");
}

void write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw credentials_error("Cannot write " + path.string() + ": " + system_reason() + ".");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string required_string(const json::object& o, const char* key, const fs::path& path) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string() || v->as_string().empty())
    throw credentials_error("The credentials file " + path.string() + " has no \"" + key +
                            "\": run `reel login` again (or delete the file).");
  return std::string(v->as_string());
}

std::string optional_string(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

bool is_api_key(const std::string& token) { return token.starts_with("reel_sk_"); }

fs::path credentials_path(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  std::string config = get("XDG_CONFIG_HOME");
  if (!config.empty() && config.front() == '/') return fs::path(config) / "reel" / "credentials";
  std::string home = get("HOME");
  if (!home.empty() && home.front() == '/') return fs::path(home) / ".config" / "reel" / "credentials";
  throw credentials_error("Cannot tell where to keep the login: set HOME or XDG_CONFIG_HOME to an absolute path.");
}

std::string credential_json(const credential& c) {
  json::object o{{"version", k_format_version},
                 {"server", c.server},
                 {"kind", c.kind == credential_kind::api_key ? "apiKey" : "session"},
                 {"token", c.token}};
  if (!c.organization_id.empty()) o["organizationId"] = c.organization_id;
  if (!c.email.empty()) o["email"] = c.email;
  return json::serialize(o) + "\n";
}

credential parse_credential(const std::string& text, const fs::path& path) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw credentials_error("The credentials file " + path.string() +
                            " is not valid JSON: run `reel login` again (or delete the file).");
  const auto& o = v.as_object();
  const auto* version = o.if_contains("version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != k_format_version)
    throw credentials_error("The credentials file " + path.string() +
                            " is of an unknown version: run `reel login` again (or delete the file).");
  credential c;
  c.server = required_string(o, "server", path);
  c.token = required_string(o, "token", path);
  std::string kind = required_string(o, "kind", path);
  if (kind != "session" && kind != "apiKey")
    throw credentials_error("The credentials file " + path.string() + " has an unknown \"kind\" \"" + kind +
                            "\": run `reel login` again (or delete the file).");
  c.kind = kind == "apiKey" ? credential_kind::api_key : credential_kind::session;
  c.organization_id = optional_string(o, "organizationId");
  c.email = optional_string(o, "email");
  return c;
}

std::optional<credential> load_credential(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw credentials_error("Cannot read the credentials file " + path.string() + ": " + system_reason() + ".");
  }
  struct stat st {};
  std::string text;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= 64 * 1024) {
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < text.size()) {
      ssize_t n = ::read(fd, text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    text.resize(got);
  } else {
    ::close(fd);
    throw credentials_error("The credentials file " + path.string() +
                            " is not a small regular file: run `reel login` again (or delete it).");
  }
  ::close(fd);
  if ((st.st_mode & 077) != 0)
    std::cerr << "reel: warning: " << path.string() << " can be read by others; `chmod 600 " << path.string()
              << "` (reel login writes it so).\n";
  return parse_credential(text, path);
}

void save_credential(const fs::path& path, const credential& c) {
  make_private_dir(path.parent_path(), true);
  std::string tmp = (path.parent_path() / ".credentials.XXXXXX").string();
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // O_CREAT|O_EXCL, mode 0600
  if (fd < 0) throw credentials_error("Cannot write in " + path.parent_path().string() + ": " + system_reason() + ".");
  try {
    if (::fchmod(fd, 0600) != 0) throw credentials_error("Cannot protect " + tmp + ": " + system_reason() + ".");
    write_all(fd, credential_json(c), tmp);
    if (::fsync(fd) != 0) throw credentials_error("Cannot write " + tmp + ": " + system_reason() + ".");
    if (::close(fd) != 0) {
      fd = -1;
      throw credentials_error("Cannot write " + tmp + ": " + system_reason() + ".");
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw credentials_error("Cannot replace " + path.string() + ": " + system_reason() + ".");
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {  // the rename itself survives a crash
    ::fsync(dir);
    ::close(dir);
  }
}

bool remove_credential(const fs::path& path) {
  if (::unlink(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  throw credentials_error("Cannot delete " + path.string() + ": " + system_reason() + ".");
}

}  // namespace reel::cli
