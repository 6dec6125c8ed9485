#include "app/db_copy.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "db/copy.hpp"
#include "db/migrations.hpp"
#include "db/postgres.hpp"
#include "db/sqlite.hpp"

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace reel::app {

namespace {

namespace fs = std::filesystem;

constexpr const char* k_usage =
    "usage: reel db copy --from SOURCE --to TARGET\n\n"
    "Copies an installation from SQLite into an empty PostgreSQL database, in one\n"
    "transaction: users, sessions, organizations, memberships, videos, jobs and\n"
    "uploads, every value as it is. The target is migrated first; a target that\n"
    "already holds rows is refused. The blob files stay in the data directory:\n"
    "run reel on the new database with the same data directory.\n\n"
    "  --from SOURCE   the SQLite database: sqlite:///path/reel.db, its path, or\n"
    "                  the data directory that holds reel.db\n"
    "  --to TARGET     the PostgreSQL database: postgres://user:password@host/db,\n"
    "                  postgresql://..., or postgres:///db?host=/socket/dir\n";

// A mistake in the command line (exit 2).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A copy that cannot be made, in one sentence (exit 1).
struct copy_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct copy_flags {
  std::string from, to;
};

copy_flags parse_flags(const std::vector<std::string>& args) {
  copy_flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name = a.substr(0, a.find('='));
    std::string* slot = name == "--from" ? &flags.from : name == "--to" ? &flags.to : nullptr;
    // Named, never echoed whole: a stray argument may be a URL with a password.
    if (!slot)
      throw usage_error(a.starts_with("-") ? "unknown flag " + name
                                           : std::string("an argument without a flag (the flags are --from and --to)"));
    if (a.size() > name.size())
      *slot = a.substr(name.size() + 1);
    else if (i + 1 < args.size())
      *slot = args[++i];
    else
      throw usage_error(name + " needs a value");
  }
  if (flags.from.empty()) throw usage_error("--from is missing: name the SQLite database to copy");
  if (flags.to.empty()) throw usage_error("--to is missing: name the PostgreSQL database to copy into");
  return flags;
}

// The SQLite file --from names: sqlite:///path, a path, or a data directory holding reel.db.
std::string source_file(const std::string& from) {
  std::string path = from;
  if (from.starts_with("sqlite://"))
    path = from.substr(9);
  else if (from.find("://") != std::string::npos)
    throw copy_error("--from must name a SQLite database (sqlite:///path/reel.db, or its path)");
  std::error_code ec;
  if (fs::is_directory(path, ec)) path = (fs::path(path) / "reel.db").string();
  if (path.empty() || !fs::exists(path, ec)) throw copy_error("the source database " + path + " does not exist");
  if (!fs::is_regular_file(path, ec)) throw copy_error("the source database " + path + " is not a file");
  return path;
}

std::unique_ptr<db::database> open_source(const std::string& path) {
  try {
    return std::make_unique<db::sqlite_database>(path, 1);
  } catch (const db::db_error& e) {
    throw copy_error("the source database " + path + " cannot be read: " + e.what());
  }
}

// The target, reachable and migrated. Its errors never hold the password
// (postgres_database leaves it out of every message).
std::unique_ptr<db::database> open_target(const std::string& url) {
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://"))
    throw copy_error("--to must be a PostgreSQL URL (postgres://... or postgresql://...)");
  std::unique_ptr<db::database> target;
  try {
    target = std::make_unique<db::postgres_database>(url, db::postgres_settings{.connections = 1});
  } catch (const db::db_error& e) {
    throw copy_error(e.what());
  }
  try {
    db::migrate(*target, to_iso8601(system_clock().now()));
  } catch (const db::db_error& e) {
    throw copy_error(std::string("the target database cannot be migrated: ") + e.what());
  }
  return target;
}

void copy(const copy_flags& flags, std::ostream& out) {
  auto source = open_source(source_file(flags.from));
  auto target = open_target(flags.to);
  std::vector<db::copied_table> counts;
  try {
    counts = db::copy_installation(*source, *target);
  } catch (const db::target_not_empty& e) {
    throw copy_error(e.what());
  } catch (const db::db_error& e) {
    throw copy_error(std::string("nothing was copied: ") + e.what());
  }
  out << "copied";
  for (const auto& c : counts) out << (&c == &counts.front() ? " " : ", ") << c.table << " " << c.rows;
  out << "\nThe data directory is unchanged: the blob files stay where they are, so run reel on PostgreSQL with "
         "the same data directory as before.\n";
}

std::string sentence(std::string text) {
  if (!text.empty() && text.back() != '.') text += '.';
  return text;
}

}  // namespace

int run_db(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      out << k_usage;
      return 0;
    }
  if (args.empty() || args.front() != "copy") {
    err << "reel db: the one command is `reel db copy`; `reel db copy --help` shows how to use it.\n";
    return 2;
  }
  int code = 0;
  try {
    copy(parse_flags(rest), out);
  } catch (const usage_error& e) {
    err << "reel db copy: " << sentence(e.what()) << " `reel db copy --help` shows how to use it.\n";
    code = 2;
  } catch (const std::exception& e) {
    err << "reel db copy: " << sentence(e.what()) << "\n";
    code = 1;
  }
  log::flush();
  return code;
}

}  // namespace reel::app
