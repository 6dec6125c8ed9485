#include "cli/videos.hpp"

#include "cli/args.hpp"
#include "cli/client_login.hpp"
#include "cli/format.hpp"
#include "cli/http_client.hpp"
#include "cli/terminal.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>

namespace reel::cli {

namespace json = boost::json;

namespace {

const std::vector<flag_spec> k_common_flags = {{"server", true}, {"org", true}, {"json", false}};

std::vector<flag_spec> flags_with(std::vector<flag_spec> extra) {
  extra.insert(extra.end(), k_common_flags.begin(), k_common_flags.end());
  return extra;
}

std::string text_of(const json::value* v) {
  if (v == nullptr || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

std::string field(const json::object& o, const char* key) { return text_of(o.if_contains(key)); }

std::string percent_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string duration_of(const json::object& v) {
  const auto* d = v.if_contains("durationSec");
  return d != nullptr && d->is_number() ? human_duration(d->to_number<double>()) : "-";
}

std::string size_of(const json::object& v) {
  const auto* s = v.if_contains("sizeBytes");
  return s != nullptr && s->is_number() ? human_bytes(s->to_number<double>()) : "-";
}

// "2026-12-06T00:42:47.123Z" → "2026-12-06 00:42".
std::string short_time(const std::string& iso) {
  if (iso.size() < 16 || iso[10] != 'T') return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

struct session {
  resolved_login login;
  http_client client;
  explicit session(const parsed_args& a)
      : login(current_login({a.value("server"), std::nullopt, a.value("org")})),
        client(url::parse(login.server), std::chrono::seconds(30)) {}

  json::value get(const std::string& target, const std::string& what) {
    auto r = call_api(client, login, "GET", target);
    if (r.result_int() != 200) throw_api_error(what, r, login);
    return json::parse(r.body());
  }
};

void print_table(const json::array& videos) {
  std::vector<std::vector<std::string>> rows{{"ID", "STATUS", "DURATION", "SIZE", "CREATED", "TITLE"}};
  for (const auto& v : videos) {
    const auto& o = v.as_object();
    rows.push_back({field(o, "id"), field(o, "status"), duration_of(o), size_of(o), short_time(field(o, "createdAt")),
                    field(o, "title")});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i + 1 < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i + 1 < row.size(); ++i) line += row[i] + std::string(width[i] - row[i].size() + 2, ' ');
    std::cout << line << row.back() << "\n";  // the title last: no padding to get wrong for wide characters
  }
}

int list(const std::vector<std::string>& args) {
  auto a = parse_args(args, flags_with({{"limit", true}, {"status", true}}), "reel videos list");
  if (!a.positional.empty()) throw usage_error("Unexpected argument \"" + a.positional.front() + "\".");
  long limit = a.value("limit") ? parse_count("limit", *a.value("limit"), 1, 10000) : 20;
  session s(a);
  json::array videos;
  json::value next = nullptr;
  do {  // the API gives at most 100 a page
    long page = std::min<long>(100, limit - static_cast<long>(videos.size()));
    std::string target = "/api/videos?limit=" + std::to_string(page);
    if (auto st = a.value("status")) target += "&status=" + percent_encode(*st);
    if (next.is_string()) target += "&cursor=" + percent_encode(std::string(next.as_string()));
    auto body = s.get(target, "Cannot list the videos").as_object();
    for (auto& v : body.at("videos").as_array()) videos.push_back(v);
    next = body.at("nextCursor");
  } while (next.is_string() && static_cast<long>(videos.size()) < limit);
  if (a.has("json")) {
    std::cout << json::serialize(json::object{{"videos", videos}, {"nextCursor", next}}) << "\n";
    return 0;
  }
  if (videos.empty()) {
    std::cout << "No videos.\n";
    return 0;
  }
  print_table(videos);
  if (next.is_string()) std::cerr << "(more videos: --limit " << limit + 20 << " shows more)\n";
  return 0;
}

std::string absolute(const session& s, const std::string& link) {
  if (link == "-" || link.starts_with("http://") || link.starts_with("https://")) return link;
  return s.login.server + link;
}

void print_video(const session& s, const json::object& v) {
  std::vector<std::pair<std::string, std::string>> lines = {
      {"id", field(v, "id")},
      {"title", field(v, "title")},
      {"status", field(v, "status")},
      {"visibility", field(v, "visibility")},
      {"file", field(v, "originalFilename") + " (" + size_of(v) + ")"},
      {"duration", duration_of(v)},
      {"picture",
       field(v, "width") + "x" + field(v, "height") + " " + field(v, "videoCodec") + "/" + field(v, "audioCodec")},
      {"views", field(v, "viewCount")},
      {"created", field(v, "createdAt")},
      {"ready", field(v, "readyAt")},
      {"stream", absolute(s, field(v, "hlsUrl"))}};
  if (const auto* p = v.if_contains("progress"); p != nullptr && p->is_object())
    lines.emplace_back("progress", field(p->as_object(), "stage") + " " + field(p->as_object(), "percent") + "%");
  if (const auto* e = v.if_contains("error"); e != nullptr && e->is_string())
    lines.emplace_back("error", field(v, "error"));
  std::string renditions;
  if (const auto* r = v.if_contains("renditions"); r != nullptr && r->is_array())
    for (const auto& x : r->as_array()) renditions += (renditions.empty() ? "" : ", ") + field(x.as_object(), "name");
  if (!renditions.empty()) lines.emplace_back("renditions", renditions);
  if (const auto* d = v.if_contains("description"); d != nullptr && d->is_string() && !d->as_string().empty())
    lines.emplace_back("description", field(v, "description"));
  for (const auto& [k, value] : lines) std::cout << k << std::string(12 - k.size(), ' ') << value << "\n";
}

std::string video_target(const std::string& id) { return "/api/videos/" + percent_encode(id); }

std::string one_id(const parsed_args& a, const std::string& command) {
  if (a.positional.size() != 1) throw usage_error("Name one video id: " + command + " ID.");
  return a.positional.front();
}

int show(const std::vector<std::string>& args) {
  auto a = parse_args(args, flags_with({}), "reel videos show");
  std::string id = one_id(a, "reel videos show");
  session s(a);
  auto r = call_api(s.client, s.login, "GET", video_target(id));
  if (r.result_int() != 200) throw_api_error("Cannot show video " + id, r, s.login);
  if (a.has("json")) {
    std::cout << r.body() << (r.body().ends_with('\n') ? "" : "\n");
    return 0;
  }
  print_video(s, json::parse(r.body()).at("video").as_object());
  return 0;
}

int remove(const std::vector<std::string>& args) {
  auto a = parse_args(args, flags_with({{"yes", false, 'y'}}), "reel videos delete");
  std::string id = one_id(a, "reel videos delete");
  if (!a.has("yes") && !stdin_is_terminal())
    throw usage_error("Deleting needs --yes when nobody can be asked (stdin is not a terminal).");
  session s(a);
  if (!a.has("yes")) {
    auto v = s.get(video_target(id), "Cannot delete video " + id).at("video").as_object();
    auto answer = prompt_line("Delete video " + id + " \"" + field(v, "title") + "\" and its files? [y/N] ");
    if (!answer || (*answer != "y" && *answer != "Y" && *answer != "yes")) {
      std::cerr << "Nothing was deleted.\n";
      return 1;
    }
  }
  auto r = call_api(s.client, s.login, "DELETE", video_target(id));
  if (r.result_int() != 204 && r.result_int() != 200) throw_api_error("Cannot delete video " + id, r, s.login);
  if (a.has("json"))
    std::cout << json::serialize(json::object{{"deleted", id}}) << "\n";
  else
    std::cout << "Deleted video " << id << ".\n";
  return 0;
}

}  // namespace

std::string videos_usage() {
  return "usage: reel videos list [--limit N] [--status S] [--json]\n"
         "       reel videos show ID [--json]\n"
         "       reel videos delete ID [--yes]\n\n"
         "The videos of the organization you act in, newest first, as the stored login\n"
         "(reel login) or REEL_SERVER and REEL_TOKEN see them.\n\n"
         "  --limit N     list at most N videos (default 20)\n"
         "  --status S    only those with this status (uploading, queued, processing, ready, failed)\n"
         "  --json        print the API's JSON instead of a table, for scripts\n"
         "  --yes, -y     delete without asking (needed when stdin is not a terminal)\n"
         "  --org ORG     act in this organization (its id) rather than the stored one\n"
         "  --server URL  the server (must be the stored login's unless REEL_TOKEN is set)\n";
}

int run_videos(const std::vector<std::string>& args) {
  if (args.empty() || args.front() == "--help" || args.front() == "-h" || args.front() == "help") {
    (args.empty() ? std::cerr : std::cout) << videos_usage();
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
    std::cout << videos_usage();
    return 0;
  }
  const std::string& sub = args.front();
  if (sub == "list" || sub == "ls") return run_client_command("reel videos list", [&] { return list(rest); });
  if (sub == "show") return run_client_command("reel videos show", [&] { return show(rest); });
  if (sub == "delete" || sub == "rm") return run_client_command("reel videos delete", [&] { return remove(rest); });
  std::cerr << "reel videos: unknown subcommand \"" << sub << "\"; `reel videos --help` lists them.\n";
  return 2;
}

}  // namespace reel::cli
