#include "cli/upload.hpp"

#include "cli/args.hpp"
#include "cli/client_login.hpp"
#include "cli/format.hpp"
#include "cli/http_client.hpp"
#include "core/digest.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

namespace reel::cli {

namespace fs = std::filesystem;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string file, server, token, title, description, org;
  bool wait = false;
  bool resume = true;
  std::uint64_t chunk_size = 32ULL << 20;
  std::uint64_t limit_rate = 0;  // bytes per second; 0 = unlimited
  int retries = 8;
};

// "10M", "512k", "1G", "1048576" → bytes.
std::uint64_t parse_size(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? std::string(end) : "";
  double scale = unit.empty()                 ? 1
                 : unit == "k" || unit == "K" ? 1024
                 : unit == "m" || unit == "M" ? 1 << 20
                 : unit == "g" || unit == "G" ? 1 << 30
                                              : -1;
  if (text.empty() || scale < 0 || !(v > 0) || v * scale > 1e15)
    throw usage_error("--" + flag + " must be a size like 1048576, 512k, 8M or 1G.");
  return static_cast<std::uint64_t>(v * scale);
}

options parse_options(const std::vector<std::string>& args) {
  options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i], value;
    bool has_value = false;
    if (a.starts_with("--")) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        value = a.substr(eq + 1);
        a.resize(eq);
        has_value = true;
      }
    }
    auto need = [&]() -> const std::string& {
      if (!has_value) {
        if (i + 1 >= args.size()) throw usage_error("The flag " + a + " needs a value.");
        value = args[++i];
      }
      return value;
    };
    if (a == "--server") {
      o.server = need();
    } else if (a == "--token") {
      o.token = need();
    } else if (a == "--title") {
      o.title = need();
    } else if (a == "--description") {
      o.description = need();
    } else if (a == "--org") {
      o.org = need();
    } else if (a == "--wait") {
      o.wait = true;
    } else if (a == "--no-resume") {
      o.resume = false;
    } else if (a == "--chunk-size") {
      o.chunk_size = parse_size("chunk-size", need());
    } else if (a == "--limit-rate") {
      o.limit_rate = parse_size("limit-rate", need());
    } else if (a == "--retries") {
      char* end = nullptr;
      long n = std::strtol(need().c_str(), &end, 10);
      if (*end != '\0' || n < 0 || n > 100) throw usage_error("--retries must be an integer from 0 to 100.");
      o.retries = static_cast<int>(n);
    } else if (a.starts_with("--")) {
      throw usage_error("Unknown flag " + a + "; `reel upload --help` lists the flags.");
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      throw usage_error("Only one file per upload (got \"" + o.file + "\" and \"" + a + "\").");
    }
  }
  if (o.file.empty()) throw usage_error("Name the file to upload.");
  if (!o.token.empty())
    std::cerr << "reel upload: warning: --token shows in `ps` and in your shell's history; use `reel login` "
                 "or REEL_TOKEN instead.\n";
  auto opt = [](const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); };
  auto login = current_login({opt(o.server), opt(o.token), opt(o.org)});
  o.server = login.server;
  o.token = login.token;
  o.org = login.organization_id;
  return o;
}

// Progress on stderr: a redrawn bar on a terminal, else a plain line every
// 10% or 5 seconds (for logs and CI).
class progress {
 public:
  progress(std::uint64_t total, std::uint64_t start)
      : total_(total), start_bytes_(start), tty_(::isatty(STDERR_FILENO) == 1), started_(clock_type::now()) {}

  void update(std::uint64_t done, bool final = false) {
    auto now = clock_type::now();
    if (!final && now - last_draw_ < std::chrono::milliseconds(tty_ ? 100 : 5000) &&
        (tty_ || done * 10 / total_ == last_decile_))
      return;
    last_draw_ = now;
    last_decile_ = done * 10 / total_;
    double elapsed = std::chrono::duration<double>(now - started_).count();
    double rate = elapsed > 0 ? static_cast<double>(done - start_bytes_) / elapsed : 0;
    double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : NAN;
    double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total_);
    std::string figures = human_bytes(static_cast<double>(done)) + " / " + human_bytes(static_cast<double>(total_)) +
                          "  " + human_bytes(rate) + "/s  ETA " + human_duration(eta);
    if (tty_) {
      constexpr int width = 30;
      int filled = static_cast<int>(pct / 100 * width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, ' ');
      std::fprintf(stderr, "\r%5.1f%% [%s] %s\033[K", pct, bar.c_str(), figures.c_str());
      if (final) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "upload: %.0f%% %s\n", pct, figures.c_str());
    }
    std::fflush(stderr);
  }

  void interrupt_line() {
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  std::uint64_t total_, start_bytes_;
  bool tty_;
  clock_type::time_point started_, last_draw_{};
  std::uint64_t last_decile_ = 0;
};

// Remembered uploads, so that running the same command again resumes:
// $XDG_STATE_HOME/reel/uploads.json (default ~/.local/state), keyed by
// server, absolute path, size and modification time.
class upload_memory {
 public:
  upload_memory() {
    const char* state = std::getenv("XDG_STATE_HOME");
    const char* home = std::getenv("HOME");
    if (state && *state)
      path_ = fs::path(state) / "reel" / "uploads.json";
    else if (home && *home)
      path_ = fs::path(home) / ".local" / "state" / "reel" / "uploads.json";
  }

  static std::string key_of(const std::string& server, const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return {};
    return server + "|" + fs::absolute(file).lexically_normal().string() + "|" + std::to_string(st.st_size) + "|" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }

  std::optional<std::string> find(const std::string& key) {
    auto all = load();
    if (const auto* v = all.if_contains(key); v && v->is_string()) return std::string(v->as_string());
    return std::nullopt;
  }
  void remember(const std::string& key, const std::string& location) {
    auto all = load();
    all[key] = location;
    save(all);
  }
  void forget(const std::string& key) {
    auto all = load();
    if (all.erase(key)) save(all);
  }

 private:
  json::object load() {
    if (path_.empty()) return {};
    std::ifstream in(path_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
  void save(const json::object& all) {
    if (path_.empty()) return;
    std::error_code ec;
    fs::create_directories(path_.parent_path(), ec);
    auto tmp = path_;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << json::serialize(all);
      if (!out) return;
    }
    fs::rename(tmp, path_, ec);
  }

  fs::path path_;
};

std::string media_type_of(const fs::path& file) {
  static const std::map<std::string, std::string> types = {
      {".mp4", "video/mp4"},   {".m4v", "video/mp4"},       {".mov", "video/quicktime"}, {".mkv", "video/x-matroska"},
      {".webm", "video/webm"}, {".avi", "video/x-msvideo"}, {".ts", "video/mp2t"},       {".mpg", "video/mpeg"}};
  std::string ext = file.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class uploader {
 public:
  explicit uploader(options o) : o_(std::move(o)), client_(url::parse(o_.server)) {}

  int run() {
    std::ifstream file(o_.file, std::ios::binary);
    std::error_code ec;
    auto size = fs::file_size(o_.file, ec);
    if (!file || ec || !fs::is_regular_file(o_.file)) throw failure("Cannot read " + o_.file + ".");
    if (size == 0) throw failure(o_.file + " is empty.");
    size_ = size;

    std::string key = upload_memory::key_of(o_.server, o_.file);
    std::string location, video_id;
    std::uint64_t offset = 0;
    if (o_.resume) {
      if (auto known = memory_.find(key)) {
        auto status = with_retries("checking the earlier upload", [&] { return head(*known); });
        if (status) {
          location = *known;
          offset = status->offset;
          video_id = status->video_id;
          std::fprintf(stderr, "resuming %s at %s of %s\n", location.c_str(),
                       human_bytes(static_cast<double>(offset)).c_str(),
                       human_bytes(static_cast<double>(size_)).c_str());
        } else {
          memory_.forget(key);
        }
      }
    }
    if (location.empty()) {
      std::tie(location, video_id) = with_retries("creating the upload", [&] { return create(); });
      if (o_.resume) memory_.remember(key, location);
    }

    progress bar(size_, offset);
    std::string chunk;
    int attempts_left = o_.retries;
    while (offset < size_) {
      std::uint64_t n = std::min<std::uint64_t>(o_.chunk_size, size_ - offset);
      chunk.resize(n);
      file.clear();
      file.seekg(static_cast<std::streamoff>(offset));
      if (!file.read(chunk.data(), static_cast<std::streamsize>(n))) throw failure("Reading " + o_.file + " failed.");
      try {
        offset = patch(location, offset, chunk, bar);
        attempts_left = o_.retries;
        bar.update(offset, offset == size_);
      } catch (const network_error& e) {
        bar.interrupt_line();
        if (attempts_left-- <= 0)
          throw failure("The upload stopped: " + std::string(e.what()) + ". Run the same command to resume.");
        std::fprintf(stderr, "connection lost (%s); retrying\n", e.what());
        offset = resync(location, attempts_left);
      } catch (const retry_chunk& e) {
        bar.interrupt_line();
        if (attempts_left-- <= 0) throw failure(e.what());
        std::fprintf(stderr, "%s; retrying\n", e.what());
        offset = resync(location, attempts_left);
      }
    }
    memory_.forget(key);
    std::printf("%s\n", video_id.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "uploaded %s as video %s\n", o_.file.c_str(), video_id.c_str());
    return o_.wait ? wait_for_processing(video_id) : 0;
  }

 private:
  struct upload_status {
    std::uint64_t offset;
    std::string video_id;
  };
  // A PATCH the server refused for a reason worth another try (409, 423, 460, 5xx).
  class retry_chunk : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  std::map<std::string, std::string> headers(std::map<std::string, std::string> extra = {}) const {
    extra["Authorization"] = "Bearer " + o_.token;
    extra["Tus-Resumable"] = "1.0.0";
    if (!o_.org.empty()) extra["X-Organization-Id"] = o_.org;
    return extra;
  }

  static std::uint64_t offset_header(const response& r) {
    std::string text(r["Upload-Offset"]);
    if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
      throw failure("The server's answer has no valid Upload-Offset.");
    return std::stoull(text);
  }

  [[noreturn]] static void refuse(const std::string& what, const response& r) {
    throw failure(what + ": " + error_message(r));
  }

  // The earlier upload's status, or nullopt when the server no longer has it.
  std::optional<upload_status> head(const std::string& location) {
    auto r = client_.send("HEAD", location, headers());
    auto code = r.result_int();
    if (code == 404 || code == 410 || code == 403) return std::nullopt;
    if (code >= 500) throw network_error("the server answered " + std::to_string(code));
    if (code != 200) refuse("Checking the earlier upload failed", r);
    if (r["Upload-Length"] != std::to_string(size_)) return std::nullopt;
    return upload_status{offset_header(r), std::string(r["X-Video-Id"])};
  }

  std::pair<std::string, std::string> create() {
    fs::path path(o_.file);
    std::string metadata =
        "filename " + base64_encode(path.filename().string()) + ",filetype " + base64_encode(media_type_of(path));
    if (!o_.title.empty()) metadata += ",title " + base64_encode(o_.title);
    if (!o_.description.empty()) metadata += ",description " + base64_encode(o_.description);
    auto r = client_.send("POST", "/api/uploads",
                          headers({{"Upload-Length", std::to_string(size_)}, {"Upload-Metadata", metadata}}), "");
    if (r.result_int() >= 500) throw network_error("the server answered " + std::to_string(r.result_int()));
    if (r.result_int() != 201) refuse("The server refused the upload", r);
    std::string location(r[boost::beast::http::field::location]);
    if (location.empty()) throw failure("The server did not say where the upload is (no Location).");
    return {location, std::string(r["X-Video-Id"])};
  }

  std::uint64_t patch(const std::string& location, std::uint64_t offset, const std::string& chunk, progress& bar) {
    sha1 h;
    h.update(chunk);
    auto digest = h.finish();
    std::string checksum =
        "sha1 " + base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
    auto write_body = [&](const std::function<void(std::string_view)>& send) {
      constexpr std::size_t piece = 256 * 1024;
      auto started = clock_type::now();
      for (std::size_t sent = 0; sent < chunk.size();) {
        std::size_t n = std::min(piece, chunk.size() - sent);
        send(std::string_view(chunk).substr(sent, n));
        sent += n;
        bar.update(offset + sent);
        if (o_.limit_rate > 0) {  // hold the average at the limit
          auto due =
              started + std::chrono::duration<double>(static_cast<double>(sent) / static_cast<double>(o_.limit_rate));
          std::this_thread::sleep_until(std::chrono::time_point_cast<clock_type::duration>(due));
        }
      }
    };
    auto r = client_.send("PATCH", location,
                          headers({{"Upload-Offset", std::to_string(offset)},
                                   {"Content-Type", "application/offset+octet-stream"},
                                   {"Upload-Checksum", checksum}}),
                          chunk.size(), write_body);
    auto code = r.result_int();
    if (code == 204 || code == 200) return offset_header(r);
    if (code == 409 || code == 423 || code == 460 || code >= 500)
      throw retry_chunk("the server answered " + std::to_string(code) + " (" + error_message(r) + ")");
    refuse("The server refused the upload", r);
  }

  // Where the server is after a failure: asks it (HEAD), retrying while it is unreachable.
  std::uint64_t resync(const std::string& location, int& attempts_left) {
    for (;;) {
      back_off(attempts_left);
      try {
        auto status = head(location);
        if (!status)
          throw failure("The server no longer has this upload (it expired or was deleted); run again to start over.");
        return status->offset;
      } catch (const network_error& e) {
        if (attempts_left-- <= 0)
          throw failure("The server is unreachable: " + std::string(e.what()) + ". Run the same command to resume.");
        std::fprintf(stderr, "still unreachable (%s); retrying\n", e.what());
      }
    }
  }

  // Backoff between attempts: 0.5 s, 1 s, 2 s, ... up to 10 s.
  void back_off(int attempts_left) const {
    int used = std::max(0, o_.retries - attempts_left);
    auto delay = std::chrono::milliseconds(std::min(10'000, 500 << std::min(used, 5)));
    std::this_thread::sleep_for(delay);
  }

  template <class F>
  auto with_retries(const char* what, F&& f) -> std::invoke_result_t<F&> {
    for (int left = o_.retries;; --left) {
      try {
        return f();
      } catch (const network_error& e) {
        if (left <= 0) throw failure(std::string("Failed ") + what + ": " + e.what() + ".");
        std::fprintf(stderr, "%s: %s; retrying\n", what, e.what());
        back_off(left);
      }
    }
  }

  int wait_for_processing(const std::string& video_id) {
    std::string last;
    int misses = 0;
    for (;;) {
      response r;
      try {
        r = client_.send("GET", "/api/videos/" + video_id, headers(), "");
        misses = 0;
      } catch (const network_error& e) {
        if (++misses > o_.retries) throw failure("Lost the server while waiting: " + std::string(e.what()) + ".");
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      if (r.result_int() != 200) refuse("Following the processing failed", r);
      auto v = json::parse(r.body()).at("video");
      std::string status(v.at("status").as_string());
      std::string line = status;
      if (const auto& p = v.at("progress"); p.is_object())
        line += " (" + std::string(p.at("stage").as_string()) + " " +
                std::to_string(static_cast<int>(p.at("percent").to_number<double>())) + "%)";
      if (line != last) {
        std::fprintf(stderr, "processing: %s\n", line.c_str());
        last = line;
      }
      if (status == "ready") return 0;
      if (status == "failed") {
        std::string why = v.at("error").is_string() ? std::string(v.at("error").as_string()) : "no reason given";
        std::fprintf(stderr, "processing failed: %s\n", why.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  options o_;
  http_client client_;
  upload_memory memory_;
  std::uint64_t size_ = 0;
};

}  // namespace

std::string upload_usage() {
  return "usage: reel upload FILE [flags]\n\n"
         "Uploads FILE with tus (resumable): an interrupted upload of the same file resumes\n"
         "where it stopped, here or on the next run. Prints the video id on stdout.\n"
         "Signs in as the stored login (reel login), or REEL_SERVER and REEL_TOKEN.\n\n"
         "  --server URL        the reel server (default: the stored login's)\n"
         "  --token TOKEN       deprecated: shows in `ps`; use reel login or REEL_TOKEN\n"
         "  --title T           the video's title (default: the file name)\n"
         "  --description D     the video's description\n"
         "  --org ID            the organization (default: the stored one, REEL_ORG, else your oldest)\n"
         "  --wait              follow processing; exit 0 when ready, 1 when it failed\n"
         "  --chunk-size SIZE   bytes per request, each checked with SHA-1 (default 32M)\n"
         "  --limit-rate SIZE   at most SIZE bytes per second (e.g. 2M)\n"
         "  --retries N         attempts after a network error, with backoff (default 8)\n"
         "  --no-resume         always start a new upload\n";
}

int run_upload(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::cout << upload_usage();
      return 0;
    }
  return run_client_command("reel upload", [&] {
    uploader u(parse_options(args));
    return u.run();
  });
}

}  // namespace reel::cli
