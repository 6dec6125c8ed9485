#include "app/user.hpp"

#include "api/input.hpp"
#include "app/setup.hpp"
#include "core/clock.hpp"
#include "core/errors.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "db/database.hpp"
#include "domain/accounts.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <exception>
#include <optional>

namespace reel::app {

namespace asio = boost::asio;

namespace {

void print_user_usage(std::ostream& out) {
  out << "usage: reel user reset-password EMAIL [flags of serve]\n\n"
         "Prints a one-time link that lets the account with EMAIL choose a new password\n"
         "(valid 1 hour; using it ends every session of the account). It reads the\n"
         "same database as `reel serve` (--data-dir, --database-url or their REEL_*\n"
         "variables); links start with --public-url / REEL_PUBLIC_URL.\n";
}

// The email (validated and normalized as the API does) and the other words
// (flags and their values), or nullopt after printing why not.
std::optional<std::string> split_arguments(const std::vector<std::string>& args, std::vector<std::string>& flags,
                                           std::ostream& err) {
  std::optional<std::string> email;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i].starts_with("--")) {
      flags.push_back(args[i]);
      if (args[i].find('=') == std::string::npos && i + 1 < args.size()) flags.push_back(args[++i]);
    } else if (!email) {
      email = args[i];
    } else {
      err << "reel user reset-password: one EMAIL only, got \"" << args[i] << "\" too.\n";
      return std::nullopt;
    }
  }
  if (!email) {
    print_user_usage(err);
    return std::nullopt;
  }
  try {
    return api::require_email(boost::json::object{{"email", *email}});
  } catch (const error&) {
    err << "reel user reset-password: \"" << *email << "\" is not an email address.\n";
    return std::nullopt;
  }
}

std::optional<domain::recovery::reset_link> issue(const config& cfg, const std::string& email) {
  asio::io_context io(1);
  worker_pool pool(1);
  system_clock c;
  auto database = open_database(cfg, c);
  db::gateway gateway(pool, *database);
  domain::accounts accounts(gateway, c);
  domain::recovery recovery(gateway, accounts, c, recovery_settings_of(cfg));
  std::optional<domain::recovery::reset_link> link;
  std::exception_ptr failure;
  asio::co_spawn(io, recovery.issue_reset(email),
                 [&](std::exception_ptr e, std::optional<domain::recovery::reset_link> l) {
                   failure = e;
                   link = std::move(l);
                 });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return link;
}

}  // namespace

std::string public_url_of(const config& cfg) {
  return cfg.public_url.empty() ? "http://localhost:" + std::to_string(cfg.port) : cfg.public_url;
}

domain::recovery_settings recovery_settings_of(const config& cfg) {
  domain::recovery_settings s;
  s.public_url = public_url_of(cfg);
  return s;
}

int run_user(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_user_usage(args.empty() ? err : out);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "reset-password") {
    err << "reel user: unknown command \"" << args[0] << "\"; `reel user --help` says what there is.\n";
    return 2;
  }
  std::vector<std::string> flags;
  auto email = split_arguments(args, flags, err);
  if (!email) return 2;
  config cfg = load_config(process_environment(), flags);                               // config_error: exit 2 (main)
  log::set_level(cfg.log_level > log::level::warn ? cfg.log_level : log::level::warn);  // stdout is the answer
  auto link = issue(cfg, *email);
  log::flush();
  if (!link) {
    err << "reel: no account has the email " << *email << ".\n";
    return 1;
  }
  out << "A link to choose a new password for " << link->email << " (it works once, until "
      << to_iso8601(link->expires_at) << ", 1 hour from now):\n"
      << link->url << "\n";
  return 0;
}

}  // namespace reel::app
