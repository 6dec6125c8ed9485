// reel: the command-line entry point. Parses the command and the config and
// hands over to the command; nothing else lives here.
#include "app/db_copy.hpp"
#include "app/org.hpp"
#include "app/serve.hpp"
#include "app/user.hpp"
#include "cli/account.hpp"
#include "cli/upload.hpp"
#include "cli/videos.hpp"
#include "core/config.hpp"
#include "core/fault.hpp"
#include "core/log.hpp"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

void print_usage(std::ostream& out) {
  out << "usage: reel <command> [flags]\n\n"
         "commands:\n"
         "  serve     run the server (HTTP API, streaming, realtime, workers)\n"
         "  serve --print-routes\n"
         "            print the routes the server registers (METHOD PATTERN a line) and exit\n"
         "  worker    run processing workers only (REEL_WORKERS of them, at least 1)\n"
         "  migrate   apply the database migrations and exit\n"
         "  db copy   copy an installation from SQLite into an empty PostgreSQL database\n"
         "            (reel db copy --from sqlite:///path/reel.db --to postgres://...)\n"
         "  login     sign in to a server and keep the credential for the commands below\n"
         "            (reel login --server URL; --api-key for an organization API key)\n"
         "  logout    end the stored session and forget the credential\n"
         "  whoami    show who the stored login is\n"
         "  upload    upload a file to a server, resumably (reel upload --help)\n"
         "  videos    list, show or delete videos (reel videos --help)\n"
         "  user reset-password EMAIL\n"
         "            print a one-time link (valid 1 hour) that lets that account choose a new\n"
         "            password; same database flags as serve (reel user --help)\n"
         "  org set-quota ORG BYTES|none\n"
         "            set an organization's storage quota (ORG: its id or public address)\n"
         "  org recount [ORG]\n"
         "            recompute storage usage (outputs measured on disk); prints before/after\n"
         "  help      show this text\n"
         "  version   print the version\n\n"
         "flags of serve, each with its environment twin (flags win):\n"
      << reel::config_help();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = args.empty() ? "help" : args.front();
  if (!args.empty()) args.erase(args.begin());

  if (command == "help" || command == "--help" || command == "-h") {
    print_usage(std::cout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << "reel 0.1.0\n";
    return 0;
  }
  // Clients of a server, not a server: no server configuration applies.
  if (command == "upload") return reel::cli::run_upload(args);
  if (command == "login") return reel::cli::run_login(args);
  if (command == "logout") return reel::cli::run_logout(args);
  if (command == "whoami") return reel::cli::run_whoami(args);
  if (command == "videos") return reel::cli::run_videos(args);
  // Names both databases on its command line: no server configuration applies either.
  if (command == "db") return reel::app::run_db(args, std::cout, std::cerr);
  if (command != "serve" && command != "migrate" && command != "worker" && command != "user" && command != "org") {
    std::cerr << "reel: unknown command \"" << command << "\"; `reel help` lists the commands.\n";
    return 2;
  }
  try {
    if (command == "user") return reel::app::run_user(args, std::cout, std::cerr);
    if (command == "org") return reel::app::run_org(args, std::cout, std::cerr);
    // `reel serve --print-routes`: the routes the server registers, one a line (docs/api-openapi.md).
    bool print_routes = command == "serve" && std::erase(args, "--print-routes") > 0;
    reel::config cfg = reel::load_config(reel::process_environment(), args);
    if (print_routes) return reel::app::run_print_routes(cfg, std::cout);
    reel::fault::arm_crash(cfg.test_crash_at);
    if (command == "migrate") return reel::app::run_migrate(cfg);
    if (command == "worker") return reel::app::run_worker(cfg);
    return reel::app::run_serve(cfg);
  } catch (const reel::startup_error& e) {
    reel::log::flush();
    std::cerr << "reel: " << e.what() << "\n";
    return 1;
  } catch (const reel::config_error& e) {
    reel::log::flush();
    std::cerr << "reel: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    reel::log::error("fatal", {{"error", e.what()}});
    reel::log::flush();
    return 1;
  }
}
