#include "cli/client_login.hpp"

#include "cli/args.hpp"
#include "cli/http_client.hpp"
#include "core/config.hpp"

#include <iostream>

namespace reel::cli {

std::string normalize_server(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s.back() == '/') s.pop_back();
  try {
    url::parse(s);
  } catch (const std::invalid_argument& e) {
    throw usage_error("Bad server URL \"" + text + "\": " + e.what() + " (e.g. http://localhost:8080).");
  }
  return s;
}

resolved_login resolve_login(const login_overrides& flags, const std::map<std::string, std::string>& env,
                             const std::optional<credential>& stored, const std::string& stored_path) {
  auto from_env = [&](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  resolved_login out;
  std::optional<std::string> server = flags.server ? flags.server : from_env("REEL_SERVER");
  std::optional<std::string> token;
  if (flags.token) {
    token = flags.token;
    out.source = "--token";
  } else if (auto t = from_env("REEL_TOKEN")) {
    token = t;
    out.source = "REEL_TOKEN";
  }
  if (server) out.server = normalize_server(*server);
  if (token) {
    if (out.server.empty() && stored) out.server = stored->server;
    if (out.server.empty())
      throw usage_error("--server is required with " + out.source +
                        " (or set REEL_SERVER, or run `reel login --server URL`).");
    out.token = *token;
    out.kind = is_api_key(out.token) ? credential_kind::api_key : credential_kind::session;
    // A stored organization belongs to the stored login only.
  } else if (stored && (out.server.empty() || out.server == stored->server)) {
    out.server = stored->server;
    out.token = stored->token;
    out.kind = stored->kind;
    out.organization_id = stored->organization_id;
    out.source = stored_path;
  } else if (stored) {
    throw not_logged_in("Not logged in to " + out.server + " (the stored login is for " + stored->server +
                        "): run `reel login --server " + out.server + "`, or set REEL_TOKEN.");
  } else {
    std::string where = out.server.empty() ? "--server URL" : "--server " + out.server;
    throw not_logged_in("Not logged in: run `reel login " + where + "` first, or set REEL_SERVER and REEL_TOKEN.");
  }
  if (flags.org)
    out.organization_id = *flags.org;
  else if (auto o = from_env("REEL_ORG"))
    out.organization_id = *o;
  return out;
}

std::map<std::string, std::string> auth_headers(const resolved_login& login) {
  std::map<std::string, std::string> h{{"Authorization", "Bearer " + login.token}};
  if (!login.organization_id.empty()) h["X-Organization-Id"] = login.organization_id;
  return h;
}

int run_client_command(const std::string& name, const std::function<int()>& body) {
  try {
    return body();
  } catch (const usage_error& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const network_error& e) {
    std::cerr << name << ": cannot reach the server: " << e.what() << ".\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

resolved_login current_login(const login_overrides& flags) {
  auto env = process_environment();
  auto set = [&](const char* name) { return env.count(name) > 0 && !env.at(name).empty(); };
  // REEL_TOKEN with REEL_SERVER needs no file: a missing HOME or a broken file does not stop it.
  if ((flags.token || set("REEL_TOKEN")) && (flags.server || set("REEL_SERVER")))
    return resolve_login(flags, env, {}, "");
  auto path = credentials_path(env);
  return resolve_login(flags, env, load_credential(path), path.string());
}

response call_api(http_client& client, const resolved_login& login, std::string_view method, const std::string& target,
                  const std::string& body) {
  auto headers = auth_headers(login);
  if (!body.empty()) headers["Content-Type"] = "application/json";
  return client.send(method, target, headers, body);
}

void throw_api_error(const std::string& what, const response& r, const resolved_login& login) {
  std::string message = what + ": " + error_message(r);
  if (r.result_int() == 401) {
    if (login.source == "REEL_TOKEN" || login.source == "--token")
      message += " (the token from " + login.source + " is not accepted)";
    else
      message += " (run `reel login --server " + login.server + "` again)";
  }
  throw std::runtime_error(message);
}

}  // namespace reel::cli
