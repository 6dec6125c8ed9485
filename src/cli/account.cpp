#include "cli/account.hpp"

#include "cli/args.hpp"
#include "cli/client_login.hpp"
#include "cli/credentials.hpp"
#include "cli/http_client.hpp"
#include "cli/terminal.hpp"
#include "core/config.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <iostream>

namespace reel::cli {

namespace json = boost::json;

namespace {

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

std::string string_at(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The server to log in to: --server, else REEL_SERVER, else the stored login's.
std::string login_server(const parsed_args& a, const std::map<std::string, std::string>& env,
                         const std::optional<credential>& stored) {
  if (auto s = a.value("server")) return normalize_server(*s);
  if (auto it = env.find("REEL_SERVER"); it != env.end() && !it->second.empty()) return normalize_server(it->second);
  if (stored) return stored->server;
  throw usage_error("--server is required (e.g. reel login --server https://videos.example.com).");
}

// The secret, from the terminal without echo or from stdin.
std::string read_secret(const parsed_args& a, const std::string& prompt, const std::string& what) {
  std::optional<std::string> secret;
  if (a.has("password-stdin") || !stdin_is_terminal())
    secret = read_stdin_secret();
  else
    secret = prompt_secret(prompt);
  if (!secret || secret->empty()) throw usage_error("No " + what + " given.");
  return *secret;
}

// Ends a session token on `server`, quietly: for a login that replaces
// another, or an organization that turned out wrong.
void end_session_quietly(const std::string& server, const std::string& token) {
  try {
    http_client client(url::parse(server), std::chrono::seconds(10));
    client.send("POST", "/api/auth/logout", {{"Authorization", "Bearer " + token}}, "");
  } catch (const std::exception&) {
  }
}

// The organization to act in among the login's: --org (an id, slug or
// name), else none stored when there is only one (the server's default),
// else the first (the oldest membership, which the server defaults to).
// Throws runtime_error for an --org the account is not a member of.
const json::object* choose_organization(const json::array& orgs, const std::optional<std::string>& wanted) {
  if (wanted) {
    for (const auto& o : orgs) {
      const auto& org = o.as_object();
      if (string_at(org, "id") == *wanted || string_at(org, "slug") == *wanted || string_at(org, "name") == *wanted)
        return &org;
    }
    std::string names;
    for (const auto& o : orgs)
      names +=
          (names.empty() ? "" : ", ") + string_at(o.as_object(), "name") + " (" + string_at(o.as_object(), "id") + ")";
    throw std::runtime_error("This account is not a member of \"" + *wanted + "\"; its organizations: " + names +
                             ". Nothing was stored.");
  }
  if (orgs.size() > 1) return &orgs.front().as_object();
  return nullptr;
}

credential log_in_with_password(const parsed_args& a, const std::string& server) {
  std::string email;
  if (auto e = a.value("email")) {
    email = *e;
  } else if (stdin_is_terminal() && !a.has("password-stdin")) {
    email = prompt_line("Email: ").value_or("");
  } else {
    throw usage_error("--email is required when the password comes from stdin.");
  }
  if (email.empty()) throw usage_error("No email given.");
  std::string password = read_secret(a, "Password: ", "password");

  http_client client(url::parse(server), std::chrono::seconds(30));
  json::object body{{"email", email}, {"password", password}};
  auto r = client.send("POST", "/api/auth/login", {{"Content-Type", "application/json"}}, json::serialize(body));
  if (r.result_int() != 200) {
    std::string retry(r[boost::beast::http::field::retry_after]);
    throw std::runtime_error("Login refused: " + error_message(r) +
                             (retry.empty() ? "" : " (try again in " + retry + " s)"));
  }
  auto answer = json::parse(r.body()).as_object();
  credential c{server, string_at(answer, "token"), credential_kind::session, "", ""};
  c.email = string_at(answer.at("user").as_object(), "email");
  try {
    if (const auto* org = choose_organization(answer.at("organizations").as_array(), a.value("org")))
      c.organization_id = string_at(*org, "id");
  } catch (const std::runtime_error&) {
    end_session_quietly(server, c.token);
    throw;
  }
  return c;
}

credential log_in_with_api_key(const parsed_args& a, const std::string& server) {
  if (a.has("email")) throw usage_error("--email and --api-key do not go together.");
  if (a.has("org")) throw usage_error("An API key acts in its own organization: drop --org.");
  std::string key = read_secret(a, "API key: ", "API key");
  if (!is_api_key(key))
    throw std::runtime_error("That is not an API key (they start with reel_sk_). Nothing was stored.");
  http_client client(url::parse(server), std::chrono::seconds(30));
  auto r = client.send("GET", "/api/videos?limit=1", {{"Authorization", "Bearer " + key}}, "");
  if (r.result_int() == 401)
    throw std::runtime_error("The server does not accept this API key (" + error_message(r) + "). Nothing was stored.");
  if (r.result_int() < 200 || r.result_int() > 299)
    throw std::runtime_error("Could not check the API key: " + error_message(r) + ". Nothing was stored.");
  return credential{server, key, credential_kind::api_key, "", ""};
}

int login(const std::vector<std::string>& args) {
  auto a = parse_args(args,
                      {{"server", true}, {"email", true}, {"org", true}, {"password-stdin", false}, {"api-key", false}},
                      "reel login");
  if (!a.positional.empty()) throw usage_error("Unexpected argument \"" + a.positional.front() + "\".");
  auto env = process_environment();
  auto path = credentials_path(env);
  std::optional<credential> previous;
  try {
    previous = load_credential(path);
  } catch (const credentials_error& e) {  // replaced below
    std::cerr << "reel login: " << e.what() << " It will be replaced.\n";
  }
  std::string server = login_server(a, env, previous);
  credential c = a.has("api-key") ? log_in_with_api_key(a, server) : log_in_with_password(a, server);
  save_credential(path, c);
  if (previous && previous->kind == credential_kind::session && previous->token != c.token)
    end_session_quietly(previous->server, previous->token);
  std::cout << "Logged in to " << server;
  if (!c.email.empty()) std::cout << " as " << c.email;
  if (c.kind == credential_kind::api_key) std::cout << " with an API key";
  if (!c.organization_id.empty()) std::cout << " (organization " << c.organization_id << ")";
  std::cout << ".\nThe credential is in " << path.string() << " (readable only by you).\n";
  return 0;
}

int logout(const std::vector<std::string>& args) {
  auto a = parse_args(args, {}, "reel logout");
  if (!a.positional.empty()) throw usage_error("Unexpected argument \"" + a.positional.front() + "\".");
  auto env = process_environment();
  if (auto it = env.find("REEL_TOKEN"); it != env.end() && !it->second.empty())
    std::cerr << "reel logout: REEL_TOKEN is set in the environment and still applies: unset it.\n";
  auto path = credentials_path(env);
  auto stored = load_credential(path);
  if (!stored) {
    std::cout << "Not logged in (no " << path.string() << ").\n";
    return 0;
  }
  if (stored->kind == credential_kind::api_key) {
    std::cout << "The API key itself still works: revoke it on the organization's API keys page if it should not.\n";
  } else {
    try {
      http_client client(url::parse(stored->server), std::chrono::seconds(10));
      auto r = client.send("POST", "/api/auth/logout", {{"Authorization", "Bearer " + stored->token}}, "");
      if (r.result_int() == 204 || r.result_int() == 200)
        std::cout << "Ended the session on " << stored->server << ".\n";
      else if (r.result_int() == 401)
        std::cout << "The session on " << stored->server << " had ended already.\n";
      else
        std::cerr << "reel logout: the server did not end the session: " << error_message(r) << "\n";
    } catch (const network_error& e) {
      std::cerr << "reel logout: cannot reach " << stored->server << " (" << e.what()
                << "): the session stays valid there until it expires or is ended from the Sessions page.\n";
    }
  }
  remove_credential(path);
  std::cout << "Removed " << path.string() << ".\n";
  return 0;
}

int whoami(const std::vector<std::string>& args) {
  auto a = parse_args(args, {{"server", true}, {"org", true}, {"json", false}}, "reel whoami");
  if (!a.positional.empty()) throw usage_error("Unexpected argument \"" + a.positional.front() + "\".");
  auto login = current_login({a.value("server"), std::nullopt, a.value("org")});
  http_client client(url::parse(login.server), std::chrono::seconds(30));
  if (login.kind == credential_kind::api_key) {
    auto r = call_api(client, login, "GET", "/api/videos?limit=1");
    if (r.result_int() != 200) throw_api_error("The API key does not work", r, login);
    if (a.has("json"))
      std::cout << json::serialize(json::object{{"server", login.server}, {"kind", "apiKey"}}) << "\n";
    else
      std::cout << "An API key (" << login.token.substr(0, 12) << "…) on " << login.server << "\n";
    return 0;
  }
  auto r = call_api(client, login, "GET", "/api/auth/me");
  if (r.result_int() != 200) throw_api_error("Cannot tell who you are", r, login);
  if (a.has("json")) {
    std::cout << r.body() << (r.body().ends_with('\n') ? "" : "\n");
    return 0;
  }
  auto me = json::parse(r.body()).as_object();
  const auto& user = me.at("user").as_object();
  std::cout << string_at(user, "email") << " (" << string_at(user, "name") << ") on " << login.server << "\n";
  const auto& orgs = me.at("organizations").as_array();
  for (std::size_t i = 0; i < orgs.size(); ++i) {
    const auto& o = orgs[i].as_object();
    bool current = login.organization_id.empty() ? i == 0 : string_at(o, "id") == login.organization_id;
    std::cout << (current ? "* " : "  ") << string_at(o, "name") << "  " << string_at(o, "id") << "  "
              << string_at(o, "role") << "\n";
  }
  return 0;
}

}  // namespace

std::string login_usage() {
  return "usage: reel login [--server URL] [--email EMAIL] [--org ORG] [--password-stdin]\n"
         "       reel login [--server URL] --api-key\n\n"
         "Signs in to a reel server and keeps the credential in\n"
         "$XDG_CONFIG_HOME/reel/credentials (default ~/.config/reel/credentials, mode 0600),\n"
         "for the other commands. On a terminal it asks for what is missing, the password\n"
         "or key without echo; otherwise the password or key is read from stdin.\n\n"
         "  --server URL        the reel server (default: REEL_SERVER, else the last login's)\n"
         "  --email EMAIL       the account (asked for on a terminal)\n"
         "  --org ORG           act in this organization (id, slug or name; default: the first)\n"
         "  --password-stdin    read the password (or key) from stdin, e.g. from a secret store\n"
         "  --api-key           log in with an organization API key (reel_sk_...) instead\n";
}

std::string logout_usage() {
  return "usage: reel logout\n\n"
         "Ends the stored session on its server and deletes the stored credential (even when\n"
         "the server cannot be reached; it says so). An API key is only forgotten here:\n"
         "revoke it on the organization's API keys page.\n";
}

std::string whoami_usage() {
  return "usage: reel whoami [--json]\n\n"
         "Shows the account (and its organizations; * marks the one commands act in) or the\n"
         "API key that the commands use, and checks that the server accepts it.\n";
}

int run_login(const std::vector<std::string>& args) {
  if (wants_help(args)) return (std::cout << login_usage(), 0);
  return run_client_command("reel login", [&] { return login(args); });
}

int run_logout(const std::vector<std::string>& args) {
  if (wants_help(args)) return (std::cout << logout_usage(), 0);
  return run_client_command("reel logout", [&] { return logout(args); });
}

int run_whoami(const std::vector<std::string>& args) {
  if (wants_help(args)) return (std::cout << whoami_usage(), 0);
  return run_client_command("reel whoami", [&] { return whoami(args); });
}

}  // namespace reel::cli
