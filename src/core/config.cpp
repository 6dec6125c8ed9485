#include "core/config.hpp"

#include <charconv>
#include <functional>
#include <sstream>

extern char** environ;

namespace reel {
namespace {

using setter = std::function<void(config&, const std::string& value, const std::string& source)>;

struct setting {
  const char* env;
  const char* flag;
  const char* help;
  setter apply;
};

[[noreturn]] void fail(const std::string& source, const std::string& must, const std::string& value) {
  throw config_error(source + " must be " + must + ", got \"" + value + "\".");
}

std::uint64_t parse_uint(const std::string& source, const std::string& value, std::uint64_t min, std::uint64_t max,
                         const std::string& what) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || n < min || n > max)
    fail(source, what, value);
  return n;
}

bool parse_bool(const std::string& source, const std::string& value) {
  if (value == "1" || value == "true" || value == "yes" || value == "on") return true;
  if (value == "0" || value == "false" || value == "no" || value == "off") return false;
  fail(source, "true or false", value);
}

bool valid_origin(const std::string& o) {
  std::string_view rest;
  if (o.starts_with("http://"))
    rest = std::string_view(o).substr(7);
  else if (o.starts_with("https://"))
    rest = std::string_view(o).substr(8);
  else
    return false;
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  for (char c : rest)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

std::chrono::milliseconds parse_ms(const std::string& source, const std::string& value, std::uint64_t min) {
  return std::chrono::milliseconds(parse_uint(source, value, min, 86'400'000,
                                              "a number of milliseconds from " + std::to_string(min) + " to 86400000"));
}

// "4096x2304" (width x height) or a number of pixels.
std::int64_t parse_pixels(const std::string& source, const std::string& value) {
  const std::string must = "a picture size like 4096x2304 or a number of pixels from 1 to 268435456";
  auto x = value.find_first_of("xX");
  if (x == std::string::npos) return static_cast<std::int64_t>(parse_uint(source, value, 1, 1ULL << 28, must));
  std::uint64_t w = 0, h = 0;
  auto [wend, wec] = std::from_chars(value.data(), value.data() + x, w);
  auto [hend, hec] = std::from_chars(value.data() + x + 1, value.data() + value.size(), h);
  if (x == 0 || wec != std::errc() || wend != value.data() + x || hec != std::errc() ||
      hend != value.data() + value.size() || x + 1 == value.size() || w < 1 || h < 1 || w > 16384 || h > 16384)
    fail(source, must, value);
  return static_cast<std::int64_t>(w * h);
}

// A positive decimal number from `min` to `max`.
double parse_number(const std::string& source, const std::string& value, double min, double max,
                    const std::string& what) {
  double n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n, std::chars_format::fixed);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || !(n >= min) || !(n <= max))
    fail(source, what, value);
  return n;
}

const std::vector<setting>& settings() {
  static const std::vector<setting> all = {
      {"REEL_HOST", "host", "address to listen on (default 0.0.0.0)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty() || v.size() > 255 || v.find_first_of(" /\t") != std::string::npos)
           fail(s, "an IP address or host name", v);
         c.host = v;
       }},
      {"REEL_PORT", "port", "port to listen on; 0 picks a free one (default 8080)",
       [](config& c, const std::string& v, const std::string& s) {
         c.port = static_cast<std::uint16_t>(parse_uint(s, v, 0, 65535, "an integer from 0 to 65535"));
       }},
      {"REEL_DATA_DIR", "data-dir", "videos, uploads, the embedded database, the generated secret (default ./data)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty()) fail(s, "a directory path", v);
         c.data_dir = v;
       }},
      {"REEL_DATABASE_URL", "database-url", "sqlite:///path or postgres://... (default: SQLite in the data dir)",
       [](config& c, const std::string& v, const std::string& s) {
         if (!(v.starts_with("sqlite://") || v.starts_with("postgres://") || v.starts_with("postgresql://")))
           fail(s, "a sqlite:///path or postgres://... URL", v);
         c.database_url = v;
       }},
      {"REEL_DATABASE_POOL_SIZE", "database-pool-size", "PostgreSQL connections this process may hold (default 8)",
       [](config& c, const std::string& v, const std::string& s) {
         c.database_pool_size = static_cast<unsigned>(parse_uint(s, v, 1, 1000, "an integer from 1 to 1000"));
       }},
      {"REEL_DATABASE_STATEMENT_TIMEOUT_MS", "database-statement-timeout-ms",
       "PostgreSQL: a statement running longer is cancelled, its request gets 503 (default 30000)",
       [](config& c, const std::string& v, const std::string& s) {
         c.database_statement_timeout = parse_ms(s, v, 100);
       }},
      {"REEL_STORAGE_DIR", "storage-dir",
       "videos and uploads; on several nodes a volume they all share (default: the data dir)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty()) fail(s, "a directory path", v);
         c.storage_dir = v;
       }},
      {"REEL_STORAGE_RESERVE_BYTES", "storage-reserve-bytes",
       "free space uploads and processing leave on the storage volume, kept for logins, reads and deletes; 0 = none "
       "(default 2% of the volume, from 4 MiB to 256 MiB)",
       [](config& c, const std::string& v, const std::string& s) {
         c.storage_reserve_bytes = parse_uint(s, v, 0, std::uint64_t(1) << 50, "a number of bytes");
       }},
      {"REEL_DEFAULT_ORG_QUOTA_BYTES", "default-org-quota-bytes",
       "storage quota given to new organizations, originals and renditions counted; none = no limit (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v == "none")
           c.default_org_quota_bytes.reset();
         else
           c.default_org_quota_bytes = parse_uint(s, v, 0, std::uint64_t(1) << 60, "a number of bytes or none");
       }},
      {"REEL_REDIS_URL", "redis-url",
       "redis://host:port[/db] or unix:///path[?db=N]: events, revocations and locks across nodes (default: none, one "
       "node)",
       [](config& c, const std::string& v, const std::string& s) {
         if (!(v.starts_with("redis://") || v.starts_with("unix://")))
           fail(s, "a redis://host:port[/db] or unix:///path URL", v);
         c.redis_url = v;
       }},
      {"REEL_NODE_NAME", "node-name", "this process's name in logs and the cluster (default host:pid)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty() || v.size() > 64 ||
             v.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") !=
                 std::string::npos)
           fail(s, "1 to 64 letters, digits, '.', '_', ':' or '-'", v);
         c.node_name = v;
       }},
      {"REEL_SECRET_KEY", "secret-key", "key for signing tokens and playback URLs (default: generated)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.size() < 32) throw config_error(s + " must be at least 32 characters long.");
         c.secret_key = v;
       }},
      {"REEL_SECRET_KEY_PREVIOUS", "secret-key-previous",
       "the key before a rotation: playback links it signed keep working until they expire (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.size() < 32) throw config_error(s + " must be at least 32 characters long.");
         c.secret_key_previous = v;
       }},
      {"REEL_CORS_ORIGINS", "cors-origins", "comma-separated origins allowed with credentials (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         c.cors_origins.clear();
         std::stringstream in(v);
         std::string o;
         while (std::getline(in, o, ',')) {
           while (!o.empty() && o.front() == ' ') o.erase(0, 1);
           while (!o.empty() && o.back() == ' ') o.pop_back();
           if (o.empty()) continue;
           if (!valid_origin(o)) fail(s, "a comma-separated list of origins like https://app.example.com", o);
           c.cors_origins.push_back(o);
         }
       }},
      {"REEL_WORKERS", "workers", "concurrent processing jobs in this process; 0 = none (default 1)",
       [](config& c, const std::string& v, const std::string& s) {
         c.workers = static_cast<unsigned>(parse_uint(s, v, 0, 64, "an integer from 0 to 64"));
       }},
      {"REEL_MAX_UPLOAD_BYTES", "max-upload-bytes", "largest accepted upload (default 10737418240)",
       [](config& c, const std::string& v, const std::string& s) {
         c.max_upload_bytes = parse_uint(s, v, 1, std::uint64_t(1) << 50, "a positive number of bytes");
       }},
      {"REEL_THREADPOOL_SIZE", "threadpool-size", "threads for blocking and CPU work (default 4)",
       [](config& c, const std::string& v, const std::string& s) {
         c.threadpool_size = static_cast<unsigned>(parse_uint(s, v, 1, 256, "an integer from 1 to 256"));
       }},
      {"REEL_LOG_LEVEL", "log-level", "debug, info, warn or error (default info)",
       [](config& c, const std::string& v, const std::string& s) {
         auto l = log::parse_level(v);
         if (!l) fail(s, "one of debug, info, warn, error", v);
         c.log_level = *l;
       }},
      {"REEL_SECURE_COOKIES", "secure-cookies",
       "mark cookies Secure and send HSTS; for HTTPS deployments (default false)",
       [](config& c, const std::string& v, const std::string& s) { c.secure_cookies = parse_bool(s, v); }},
      {"REEL_HEADERS_TIMEOUT_MS", "headers-timeout-ms", "time a client has to send a request head (default 10000)",
       [](config& c, const std::string& v, const std::string& s) { c.headers_timeout = parse_ms(s, v, 100); }},
      {"REEL_KEEPALIVE_TIMEOUT_MS", "keepalive-timeout-ms",
       "idle keep-alive connections close after this (default 60000)",
       [](config& c, const std::string& v, const std::string& s) { c.keepalive_timeout = parse_ms(s, v, 100); }},
      {"REEL_SHUTDOWN_TIMEOUT_MS", "shutdown-timeout-ms", "time in-flight requests get on SIGTERM (default 10000)",
       [](config& c, const std::string& v, const std::string& s) { c.shutdown_timeout = parse_ms(s, v, 0); }},
      {"REEL_SESSION_TTL_SECONDS", "session-ttl-seconds", "how long a login session lasts (default 2592000, 30 days)",
       [](config& c, const std::string& v, const std::string& s) {
         c.session_ttl =
             std::chrono::seconds(parse_uint(s, v, 1, 366ULL * 24 * 3600, "a number of seconds from 1 to 31622400"));
       }},
      {"REEL_SESSION_IDLE_SECONDS", "session-idle-seconds",
       "a session unused this long ends (default 1209600, 14 days)",
       [](config& c, const std::string& v, const std::string& s) {
         c.session_idle =
             std::chrono::seconds(parse_uint(s, v, 60, 366ULL * 24 * 3600, "a number of seconds from 60 to 31622400"));
       }},
      {"REEL_PUBLIC_URL", "public-url",
       "the address people reach reel at, for links in emails (default http://localhost:PORT)",
       [](config& c, const std::string& v, const std::string& s) {
         std::string u = v;
         while (!u.empty() && u.back() == '/') u.pop_back();
         if (!valid_origin(u)) fail(s, "an origin like https://videos.example.com", v);
         c.public_url = u;
       }},
      {"REEL_SMTP_URL", "smtp-url",
       "smtp://[user:password@]host[:port] or smtps://...: sends reset links and invitations (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         if (!(v.starts_with("smtp://") || v.starts_with("smtps://")) ||
             v.find_first_of(" \t\r\n") != std::string::npos)
           throw config_error(s + " must be an smtp://host[:port] or smtps://host[:port] URL.");  // may hold a password
         c.smtp_url = v;
       }},
      {"REEL_SMTP_FROM", "smtp-from", "the From of emails reel sends (default \"reel <reel@localhost>\")",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty() || v.size() > 256 || v.find('@') == std::string::npos ||
             v.find_first_of("\r\n") != std::string::npos)
           fail(s, "an address like \"reel <reel@example.com>\"", v);
         c.smtp_from = v;
       }},
      {"REEL_REGISTRATIONS_PER_ADDRESS_HOUR", "registrations-per-address-hour",
       "accounts one client address may register an hour; 0 = no limit (default 20)",
       [](config& c, const std::string& v, const std::string& s) {
         c.registrations_per_address_hour =
             static_cast<unsigned>(parse_uint(s, v, 0, 1'000'000, "an integer from 0 to 1000000"));
       }},
      {"REEL_REGISTRATIONS_PER_HOUR", "registrations-per-hour",
       "accounts registered an hour from all addresses together; 0 = no limit (default 1000)",
       [](config& c, const std::string& v, const std::string& s) {
         c.registrations_per_hour =
             static_cast<unsigned>(parse_uint(s, v, 0, 100'000'000, "an integer from 0 to 100000000"));
       }},
      {"REEL_PASSWORD_HASH_THREADS", "password-hash-threads",
       "threads hashing passwords (argon2id, REEL_PASSWORD_HASH_MEMORY_MIB each), apart from the database's (default "
       "2)",
       [](config& c, const std::string& v, const std::string& s) {
         c.password_hash_threads = static_cast<unsigned>(parse_uint(s, v, 1, 64, "an integer from 1 to 64"));
       }},
      {"REEL_PASSWORD_HASH_MEMORY_MIB", "password-hash-memory-mib",
       "argon2id memory per password hash, MiB: 19 (OWASP's least) to 4096 (default 64)",
       [](config& c, const std::string& v, const std::string& s) {
         c.password_hash_memory_mib = static_cast<unsigned>(parse_uint(s, v, 19, 4096, "an integer from 19 to 4096"));
       }},
      {"REEL_PASSWORD_HASH_PASSES", "password-hash-passes",
       "argon2id passes over that memory per password hash: 2 to 16 (default 3)",
       [](config& c, const std::string& v, const std::string& s) {
         c.password_hash_passes = static_cast<unsigned>(parse_uint(s, v, 2, 16, "an integer from 2 to 16"));
       }},
      {"REEL_PASSWORD_HASH_QUEUE", "password-hash-queue",
       "password hashes that may wait for a thread; beyond, 503 with Retry-After (default 64)",
       [](config& c, const std::string& v, const std::string& s) {
         c.password_hash_queue = static_cast<unsigned>(parse_uint(s, v, 0, 100'000, "an integer from 0 to 100000"));
       }},
      {"REEL_PASSWORD_DICTIONARY", "password-dictionary",
       "cracklib dictionary new passwords are checked against (default /var/cache/cracklib/cracklib_dict)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty()) fail(s, "a path", v);
         c.password_dictionary = v;
       }},
      {"REEL_JOB_LEASE_MS", "job-lease-ms", "a worker's hold on a job before another may take it over (default 30000)",
       [](config& c, const std::string& v, const std::string& s) { c.job_lease = parse_ms(s, v, 300); }},
      {"REEL_JOB_MAX_ATTEMPTS", "job-max-attempts", "attempts per processing job before it fails (default 3)",
       [](config& c, const std::string& v, const std::string& s) {
         c.job_max_attempts = static_cast<unsigned>(parse_uint(s, v, 1, 20, "an integer from 1 to 20"));
       }},
      {"REEL_JOB_RETRY_BASE_MS", "job-retry-base-ms", "delay before the first retry, doubled each time (default 5000)",
       [](config& c, const std::string& v, const std::string& s) { c.job_retry_base = parse_ms(s, v, 0); }},
      {"REEL_JOB_MAX_TAKEOVERS", "job-max-takeovers",
       "times a job's worker may die during it before the job fails (default 5; not attempts)",
       [](config& c, const std::string& v, const std::string& s) {
         c.job_max_takeovers = static_cast<unsigned>(parse_uint(s, v, 1, 100, "an integer from 1 to 100"));
       }},
      {"REEL_JOB_RESOURCE_RETRY_BASE_MS", "job-resource-retry-base-ms",
       "delay before a job that failed for want of a resource (disk, descriptors) runs again, doubled each time "
       "(default 30000)",
       [](config& c, const std::string& v, const std::string& s) { c.job_resource_retry_base = parse_ms(s, v, 0); }},
      {"REEL_JOB_RESOURCE_RETRY_MAX_MS", "job-resource-retry-max-ms",
       "the longest delay between resource retries (default 600000)",
       [](config& c, const std::string& v, const std::string& s) { c.job_resource_retry_max = parse_ms(s, v, 0); }},
      {"REEL_JOB_RESOURCE_RETRIES", "job-resource-retries",
       "resource retries of a job before it fails (default 50: about 7.8 hours; not attempts)",
       [](config& c, const std::string& v, const std::string& s) {
         c.job_resource_retries = static_cast<unsigned>(parse_uint(s, v, 0, 10'000, "an integer from 0 to 10000"));
       }},
      {"REEL_JOB_POLL_MS", "job-poll-ms", "how often an idle worker looks for jobs (default 1000)",
       [](config& c, const std::string& v, const std::string& s) { c.job_poll = parse_ms(s, v, 10); }},
      {"REEL_PING_INTERVAL_MS", "ping-interval-ms", "Socket.IO heartbeat: how often the server pings (default 25000)",
       [](config& c, const std::string& v, const std::string& s) { c.ping_interval = parse_ms(s, v, 100); }},
      {"REEL_PING_TIMEOUT_MS", "ping-timeout-ms", "Socket.IO heartbeat: how long a pong may take (default 20000)",
       [](config& c, const std::string& v, const std::string& s) { c.ping_timeout = parse_ms(s, v, 100); }},
      {"REEL_REALTIME_MAX_PER_ADDRESS", "realtime-max-per-address",
       "Socket.IO sessions one client address may hold open at once; 0 = no limit (default 64)",
       [](config& c, const std::string& v, const std::string& s) {
         c.realtime_max_per_address =
             static_cast<unsigned>(parse_uint(s, v, 0, 1'000'000, "an integer from 0 to 1000000"));
       }},
      {"REEL_MAX_CONNECTIONS_PER_ADDRESS", "max-connections-per-address",
       "open HTTP connections one client address may hold; trusted proxies are not limited; 0 = no limit (default 256)",
       [](config& c, const std::string& v, const std::string& s) {
         c.max_connections_per_address =
             static_cast<unsigned>(parse_uint(s, v, 0, 1'000'000, "an integer from 0 to 1000000"));
       }},
      {"REEL_REALTIME_CONNECT_TIMEOUT_MS", "realtime-connect-timeout-ms",
       "a Socket.IO session that has not connected (CONNECT) within this is closed (default 45000)",
       [](config& c, const std::string& v, const std::string& s) { c.realtime_connect_timeout = parse_ms(s, v, 100); }},
      {"REEL_TRUSTED_PROXIES", "trusted-proxies",
       "comma-separated addresses or CIDR networks of proxies whose X-Forwarded-For is believed (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         c.trusted_proxies.clear();
         std::stringstream in(v);
         std::string item;
         while (std::getline(in, item, ',')) {
           while (!item.empty() && item.front() == ' ') item.erase(0, 1);
           while (!item.empty() && item.back() == ' ') item.pop_back();
           if (item.empty()) continue;
           auto network = parse_ip_network(item);
           if (!network) fail(s, "a comma-separated list of IP addresses or CIDR networks like 10.0.0.0/8", item);
           c.trusted_proxies.push_back(*network);
         }
       }},
      {"REEL_THUMBNAIL_CONCURRENCY", "thumbnail-concurrency", "on-demand thumbnails rendered at once (default 2)",
       [](config& c, const std::string& v, const std::string& s) {
         c.thumbnail_concurrency = static_cast<unsigned>(parse_uint(s, v, 1, 32, "an integer from 1 to 32"));
       }},
      {"REEL_MAX_JSON_BYTES", "max-json-bytes", "largest JSON body an API route accepts (default 1048576)",
       [](config& c, const std::string& v, const std::string& s) {
         c.max_json_bytes = parse_uint(s, v, 64, std::uint64_t(1) << 30, "a number of bytes from 64 to 1073741824");
       }},
      {"REEL_LIST_CACHE_MS", "list-cache-ms",
       "how long an answered video list may be served again; changes drop it at once; 0 = off (default 1000)",
       [](config& c, const std::string& v, const std::string& s) { c.list_cache = parse_ms(s, v, 0); }},
      {"REEL_WEB_DIR", "web-dir", "the web UI's files (default: web/ beside the executable's directory, else ./web)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty()) fail(s, "a directory path", v);
         c.web_dir = v;
       }},
      {"REEL_UPLOAD_EXPIRY_SECONDS", "upload-expiry-seconds",
       "an unfinished resumable upload is removed this long after its last bytes (default 86400)",
       [](config& c, const std::string& v, const std::string& s) {
         c.upload_expiry =
             std::chrono::seconds(parse_uint(s, v, 1, 366ULL * 24 * 3600, "a number of seconds from 1 to 31622400"));
       }},
      {"REEL_RECONCILE_INTERVAL_SECONDS", "reconcile-interval-seconds",
       "how often the data directory and the database are compared and repaired, after the run at start-up "
       "(default 3600)",
       [](config& c, const std::string& v, const std::string& s) {
         c.reconcile_interval =
             std::chrono::seconds(parse_uint(s, v, 1, 7ULL * 24 * 3600, "a number of seconds from 1 to 604800"));
       }},
      {"REEL_RECONCILE_GRACE_SECONDS", "reconcile-grace-seconds",
       "a video directory without a row is removed only once untouched this long, so that uploads being created "
       "are never touched (default 3600)",
       [](config& c, const std::string& v, const std::string& s) {
         c.reconcile_grace =
             std::chrono::seconds(parse_uint(s, v, 0, 7ULL * 24 * 3600, "a number of seconds from 0 to 604800"));
       }},
      {"REEL_TEST_CRASH_AT", "test-crash-at",
       "for crash-consistency tests only: the process exits at once (status 137) at this named point "
       "(default unset: never)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty() || v.size() > 64) throw config_error(s + " must name a crash point.");
         c.test_crash_at = v;
       }},
      {"REEL_WEBHOOK_RETRY_SCHEDULE_MS", "webhook-retry-schedule-ms",
       "the waits before each retry of a failed webhook delivery, comma-separated milliseconds "
       "(default 5000,300000,1800000,7200000,28800000,86400000)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.empty() || v.size() > 512) throw config_error(s + " must be comma-separated milliseconds.");
         c.webhook_retry_schedule = v;
       }},
      {"REEL_WEBHOOK_ALLOW_PRIVATE", "webhook-allow-private",
       "send webhooks to loopback, private, link-local and metadata addresses too (default false)",
       [](config& c, const std::string& v, const std::string& s) { c.webhook_allow_private = parse_bool(s, v); }},
      {"REEL_METRICS_TOKEN", "metrics-token",
       "bearer token that /metrics on the main port asks for; unset: /metrics is not served there (default unset)",
       [](config& c, const std::string& v, const std::string& s) {
         if (v.size() < 16 || v.size() > 256 || v.find_first_of(" \t\r\n") != std::string::npos)
           throw config_error(s + " must be a token of 16 to 256 characters without spaces.");  // never echoed
         c.metrics_token = v;
       }},
      {"REEL_METRICS_ADDRESS", "metrics-address",
       "host:port of a separate listener serving /metrics alone, without a token (default none)",
       [](config& c, const std::string& v, const std::string& s) {
         auto colon = v.rfind(':');
         std::string host = colon == std::string::npos ? "" : v.substr(0, colon);
         if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
         if (colon == std::string::npos || host.empty() || host.find_first_of(" /\t") != std::string::npos)
           fail(s, "host:port, like 127.0.0.1:9464", v);
         c.metrics_port =
             static_cast<std::uint16_t>(parse_uint(s, v.substr(colon + 1), 1, 65535, "host:port, like 127.0.0.1:9464"));
         c.metrics_host = host;
       }},
      {"REEL_THUMBNAIL_CACHE_BYTES", "thumbnail-cache-bytes",
       "disk space for on-demand thumbnails; least recently used go first (default 268435456)",
       [](config& c, const std::string& v, const std::string& s) {
         c.thumbnail_cache_bytes =
             parse_uint(s, v, 65536, std::uint64_t(1) << 44, "a number of bytes from 65536 to 17592186044416");
       }},
      {"REEL_MAX_VIDEO_PIXELS", "max-video-pixels",
       "largest picture processed, WIDTHxHEIGHT or a number of pixels; larger sources fail (default 4096x2304)",
       [](config& c, const std::string& v, const std::string& s) { c.max_video_pixels = parse_pixels(s, v); }},
      {"REEL_MAX_VIDEO_FPS", "max-video-fps", "highest frame rate processed; faster sources fail (default 120)",
       [](config& c, const std::string& v, const std::string& s) {
         c.max_video_fps = parse_number(s, v, 1, 1000, "a number of frames a second from 1 to 1000");
       }},
      {"REEL_MAX_VIDEO_SECONDS", "max-video-seconds",
       "longest video processed, in seconds; longer sources fail (default 21600, 6 h)",
       [](config& c, const std::string& v, const std::string& s) {
         c.max_video_seconds =
             std::chrono::seconds(parse_uint(s, v, 1, 7ULL * 24 * 3600, "a number of seconds from 1 to 604800"));
       }},
      {"REEL_FFMPEG_MEMORY_MB", "ffmpeg-memory-mb",
       "address space each ffmpeg/ffprobe process may map, in MiB (default 4096)",
       [](config& c, const std::string& v, const std::string& s) {
         c.ffmpeg_memory_mb = parse_uint(s, v, 256, 1ULL << 20, "a number of MiB from 256 to 1048576");
       }},
  };
  return all;
}

}  // namespace

config load_config(const std::map<std::string, std::string>& env, const std::vector<std::string>& args) {
  config c;
  for (const auto& [name, value] : env) {
    if (!name.starts_with("REEL_")) continue;
    const setting* found = nullptr;
    for (const auto& s : settings())
      if (name == s.env) found = &s;
    if (!found) throw config_error("Unknown setting " + name + " in the environment; `reel help` lists the settings.");
    found->apply(c, value, "The environment variable " + name);
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.starts_with("--"))
      throw config_error("Unexpected argument \"" + a + "\"; settings are given as --name value.");
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const setting* found = nullptr;
    for (const auto& s : settings())
      if (name == s.flag) found = &s;
    if (!found) throw config_error("Unknown flag --" + name + "; `reel help` lists the flags.");
    if (!has_value) {
      if (i + 1 >= args.size()) throw config_error("The flag --" + name + " needs a value.");
      value = args[++i];
    }
    found->apply(c, value, "The flag --" + name);
  }
  return c;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string config_help() {
  std::string out;
  for (const auto& s : settings()) {
    std::string flag = std::string("  --") + s.flag;
    flag.resize(std::max<std::size_t>(flag.size() + 1, 24), ' ');
    std::string env = s.env;
    env.resize(std::max<std::size_t>(env.size() + 1, 26), ' ');
    out += flag + env + s.help + "\n";
  }
  return out;
}

}  // namespace reel
