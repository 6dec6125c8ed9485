#include "app/org.hpp"

#include "app/setup.hpp"
#include "core/clock.hpp"
#include "core/errors.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "db/database.hpp"
#include "domain/quotas.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace reel::app {

namespace asio = boost::asio;

namespace {

void print_org_usage(std::ostream& out) {
  out << "usage: reel org set-quota ORG BYTES|none [flags of serve]\n"
         "       reel org recount [ORG] [flags of serve]\n\n"
         "set-quota  sets the storage quota of the organization ORG (its id or public\n"
         "           address): a number of bytes, with an optional binary unit (500M,\n"
         "           10GiB, 1T), or none for no limit. Owners cannot change it.\n"
         "recount    measures the processing outputs of ORG's videos on disk again\n"
         "           (every organization's without ORG) and recomputes the storage\n"
         "           usage from them and the originals; prints it before and after.\n\n"
         "Both read the same database and storage as `reel serve` (--data-dir,\n"
         "--database-url, --storage-dir or their REEL_* variables).\n";
}

std::string usage_text(const db::storage_usage& u) {
  std::string quota = u.quota ? domain::format_bytes(*u.quota) + " (" + std::to_string(*u.quota) + " bytes)" : "none";
  return std::to_string(u.used) + " bytes used (" + domain::format_bytes(u.used) + "), quota " + quota;
}

// Runs `work` (a coroutine made from the domain) to its end on a loop of its own.
template <class T, class Make>
T run_blocking(Make make) {
  asio::io_context io(1);
  std::optional<T> result;
  std::exception_ptr failure;
  asio::co_spawn(io, make(), [&](std::exception_ptr e, T r) {
    failure = e;
    if (!e) result = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// The words that are not flags (and the flags with their values apart).
std::vector<std::string> split(const std::vector<std::string>& args, std::vector<std::string>& flags) {
  std::vector<std::string> words;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i].starts_with("--")) {
      flags.push_back(args[i]);
      if (args[i].find('=') == std::string::npos && i + 1 < args.size()) flags.push_back(args[++i]);
    } else {
      words.push_back(args[i]);
    }
  }
  return words;
}

int set_quota(const config& cfg, const std::string& org, std::optional<std::int64_t> quota, std::ostream& out) {
  worker_pool pool(1);
  system_clock c;
  auto database = open_database(cfg, c);
  db::gateway gateway(pool, *database);
  domain::quotas quotas(gateway, pool);
  auto [id, usage] =
      run_blocking<std::pair<std::string, db::storage_usage>>([&] { return quotas.set_quota(org, quota); });
  out << "organization " << id << ": " << usage_text(usage) << "\n";
  return 0;
}

int recount(const config& cfg, const std::optional<std::string>& org, std::ostream& out) {
  worker_pool pool(1);
  system_clock c;
  auto database = open_database(cfg, c);
  db::gateway gateway(pool, *database);
  domain::quotas quotas(gateway, pool);
  storage::layout files(storage_dir_of(cfg));
  auto results = run_blocking<std::vector<domain::recount_result>>([&] { return quotas.recount(files, org); });
  for (const auto& r : results)
    out << "organization " << r.org_id << ": " << r.before << " -> " << r.after << " bytes ("
        << domain::format_bytes(r.before) << " -> " << domain::format_bytes(r.after) << ")"
        << (r.before == r.after ? "" : ", corrected") << "\n";
  return 0;
}

}  // namespace

int run_org(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_org_usage(args.empty() ? err : out);
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> flags;
  auto words = split(args, flags);
  const std::string& command = args[0];
  std::optional<std::optional<std::int64_t>> quota;
  if (command == "set-quota") {
    if (words.size() != 2) {
      print_org_usage(err);
      return 2;
    }
    quota = domain::parse_quota(words[1]);
    if (!quota) {
      err << "reel org set-quota: \"" << words[1]
          << "\" is not a number of bytes (like 1073741824, 500M, 10GiB) or none.\n";
      return 2;
    }
  } else if (command == "recount") {
    if (words.size() > 1) {
      print_org_usage(err);
      return 2;
    }
  } else {
    err << "reel org: unknown command \"" << command << "\"; `reel org --help` says what there is.\n";
    return 2;
  }
  config cfg = load_config(process_environment(), flags);                               // config_error: exit 2 (main)
  log::set_level(cfg.log_level > log::level::warn ? cfg.log_level : log::level::warn);  // stdout is the answer
  try {
    int code = command == "set-quota" ? set_quota(cfg, words[0], *quota, out)
                                      : recount(cfg, words.empty() ? std::nullopt : std::optional(words[0]), out);
    log::flush();
    return code;
  } catch (const error& e) {
    log::flush();
    err << "reel: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace reel::app
