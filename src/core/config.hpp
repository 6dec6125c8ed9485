// Typed configuration of `reel serve` and the other commands, filled from
// `REEL_*` environment variables and then command-line flags (flags win),
// validated as a whole. docs/API.md, "Configuration", lists the names.
#pragma once

#include "core/ip_network.hpp"
#include "core/log.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reel {

struct config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string data_dir = "./data";
  std::string database_url;         // empty: the SQLite file in data_dir
  unsigned database_pool_size = 8;  // PostgreSQL connections per process
  std::chrono::milliseconds database_statement_timeout{30'000};
  std::string secret_key;  // empty: generated and kept in data_dir
  // The secret before a rotation: what it signed still verifies ("" for none).
  std::string secret_key_previous;
  // Where videos and uploads live (empty: data_dir). On several nodes, one
  // shared volume that every node mounts.
  std::string storage_dir;
  // Free space uploads and processing outputs leave on the storage volume,
  // so that logins, reads and deletes still have room (0: none); unset: 2 %
  // of the volume, from 4 MiB to 256 MiB.
  std::optional<std::uint64_t> storage_reserve_bytes;
  // The storage quota new organizations get (nullopt: none); an operator
  // changes one with `reel org set-quota`.
  std::optional<std::uint64_t> default_org_quota_bytes;
  // redis://host:port[/db] or unix:///path[?db=N]; empty: one node, no Redis.
  std::string redis_url;
  // This process's name in logs, metrics and the cluster (default host:pid).
  std::string node_name;
  std::vector<std::string> cors_origins;
  unsigned workers = 1;
  std::uint64_t max_upload_bytes = 10737418240ULL;
  unsigned threadpool_size = 4;
  log::level log_level = log::level::info;
  bool secure_cookies = false;
  // How long a client may take to send a whole request head, and how long
  // an idle keep-alive connection stays open.
  std::chrono::milliseconds headers_timeout{10'000};
  std::chrono::milliseconds keepalive_timeout{60'000};
  // How long in-flight requests get to finish after SIGINT/SIGTERM.
  std::chrono::milliseconds shutdown_timeout{10'000};
  // How long a login session lasts.
  std::chrono::seconds session_ttl{30 * 24 * 3600};
  // A session unused this long ends, whatever its absolute expiry.
  std::chrono::seconds session_idle{14 * 24 * 3600};
  // Where people reach this service (links in emails and in
  // `reel user reset-password`); empty: http://localhost:<port>.
  std::string public_url;
  // smtp://[user:password@]host[:port] or smtps://…; empty: no email is sent
  // (reset links come from the CLI, invitations show in the inbox only).
  std::string smtp_url;
  std::string smtp_from = "reel <reel@localhost>";
  // Registrations one client address may make an hour, and all of them
  // together an hour (0: no limit).
  unsigned registrations_per_address_hour = 20;
  unsigned registrations_per_hour = 1000;
  // Password hashing (argon2id) has threads of its own, never the pool the
  // database uses: this many at once, and this many more waiting; beyond
  // that a request gets 503 with Retry-After.
  unsigned password_hash_threads = 2;
  unsigned password_hash_queue = 64;
  // The cost of a new password hash (argon2id): memory and passes. A stored
  // hash of another cost still verifies, and is hashed again at the cost of
  // the day on its owner's next login.
  unsigned password_hash_memory_mib = 64;
  unsigned password_hash_passes = 3;
  // cracklib's dictionary the password policy checks against (the path
  // without .pwd/.pwi/.hwm); empty: /var/cache/cracklib/cracklib_dict.
  std::string password_dictionary;
  // The processing queue: lease length (heartbeat every third of it),
  // attempts per job, first retry delay (doubling), idle poll interval.
  std::chrono::milliseconds job_lease{30'000};
  unsigned job_max_attempts = 3;
  std::chrono::milliseconds job_retry_base{5'000};
  std::chrono::milliseconds job_poll{1'000};
  // Not attempts: deaths of a job's worker allowed, and resource retries
  // (30 s doubling to 10 min, at most 50).
  unsigned job_max_takeovers = 5;
  std::chrono::milliseconds job_resource_retry_base{30'000};
  std::chrono::milliseconds job_resource_retry_max{600'000};
  unsigned job_resource_retries = 50;
  // Engine.IO heartbeat: the server pings every interval; no pong within the timeout closes the session.
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  // Socket.IO: Engine.IO sessions one client address may hold open at once
  // (0: no limit), and how long a session may stay without a namespace
  // connection (CONNECT) before it is closed.
  unsigned realtime_max_per_address = 64;
  // Open HTTP connections one client address may hold (trusted proxies are
  // not limited); 0 = no limit.
  unsigned max_connections_per_address = 256;
  std::chrono::milliseconds realtime_connect_timeout{45'000};
  // Load balancers and reverse proxies whose X-Forwarded-For is believed
  // (addresses or CIDR networks); empty: the TCP peer is the client.
  std::vector<ip_network> trusted_proxies;
  // On-demand thumbnails rendered at once, at most.
  unsigned thumbnail_concurrency = 2;
  // Largest JSON/form body an ordinary API route accepts.
  std::uint64_t max_json_bytes = 1 << 20;
  // How long an answered video list may be served again (0: never); any
  // change in the organization made or heard by this process drops it at once.
  std::chrono::milliseconds list_cache{1'000};
  // The web UI's files; empty: web/ beside the executable's directory, else ./web.
  std::string web_dir;
  // An unfinished resumable upload expires this long after its last bytes
  // arrived; its video and file are then removed.
  std::chrono::seconds upload_expiry{24 * 3600};
  // The reconciliation sweep (at start-up, then this often) and how long a
  // video directory without a row must be untouched before it goes.
  std::chrono::seconds reconcile_interval{3600};
  std::chrono::seconds reconcile_grace{3600};
  // Tests only: the crash point (core/fault.hpp) this process dies at.
  std::string test_crash_at;
  // Webhooks: the retry delays as given (comma-separated milliseconds,
  // checked when the server starts; empty: the default schedule), and
  // whether deliveries may go to loopback, private and link-local addresses.
  std::string webhook_retry_schedule;
  bool webhook_allow_private = false;
  // /metrics: served on the main listener only with this bearer token, or
  // without one on a separate listener at metrics_host:metrics_port.
  std::string metrics_token;
  std::string metrics_host;
  std::uint16_t metrics_port = 0;  // 0: no separate listener
  // The on-demand thumbnail cache on disk, all videos together; the least
  // recently used frames go first.
  std::uint64_t thumbnail_cache_bytes = 256ULL << 20;
  // Processing limits: sources above them are refused after the probe;
  // ffmpeg/ffprobe run under an address-space limit (RLIMIT_AS).
  std::int64_t max_video_pixels = 4096LL * 2304;  // width × height of a frame
  double max_video_fps = 120;
  std::chrono::seconds max_video_seconds{6 * 3600};
  std::uint64_t ffmpeg_memory_mb = 4096;
};

// A bad or unknown setting. what() is one sentence naming the setting and why.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The settings are valid but what they name cannot be used at start-up
// (the database is unreachable, refuses the credentials, is too old): the
// process stops with this sentence and exit status 1.
class startup_error : public config_error {
 public:
  using config_error::config_error;
};

// Builds the config from `env` (name → value; only REEL_* names are read)
// and `args` (the flags after the command name, `--name value` or
// `--name=value`). Throws config_error on the first bad or unknown setting.
config load_config(const std::map<std::string, std::string>& env, const std::vector<std::string>& args);

// The process environment as a map, for load_config.
std::map<std::string, std::string> process_environment();

// One line per setting, for `reel help`.
std::string config_help();

}  // namespace reel
