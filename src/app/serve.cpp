// The `reel serve` command: the composition root of the server process.
// Every part is built here, in dependency order, and wired to the others.
#include "app/serve.hpp"

#include "api/accounts.hpp"
#include "api/api_keys.hpp"
#include "api/captions.hpp"
#include "api/downloads.hpp"
#include "api/guard.hpp"
#include "api/invitations.hpp"
#include "api/openapi.hpp"
#include "api/ops.hpp"
#include "api/posters.hpp"
#include "api/recovery.hpp"
#include "api/sharing.hpp"
#include "api/uploads.hpp"
#include "api/videos.hpp"
#include "api/views.hpp"
#include "api/web.hpp"
#include "api/webhooks.hpp"
#include "app/reserve.hpp"
#include "app/setup.hpp"
#include "app/user.hpp"
#include "auth/playback_tokens.hpp"
#include "cluster/db_events.hpp"
#include "core/async.hpp"
#include "core/events.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/offload.hpp"
#include "core/system.hpp"
#include "db/events.hpp"
#include "db/jobs.hpp"
#include "domain/accounts.hpp"
#include "domain/api_keys.hpp"
#include "domain/invitations.hpp"
#include "domain/organizations.hpp"
#include "domain/reconciliation.hpp"
#include "domain/recovery.hpp"
#include "domain/sharing.hpp"
#include "domain/uploads.hpp"
#include "domain/videos.hpp"
#include "domain/views.hpp"
#include "domain/webhooks.hpp"
#include "http/loop_monitor.hpp"
#include "http/metrics.hpp"
#include "http/middleware.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "jobs/processor.hpp"
#include "mail/smtp_mailer.hpp"
#include "media/posters.hpp"
#include "media/rung_mp4.hpp"
#include "media/thumbnailer.hpp"
#include "model/json.hpp"
#include "realtime/socketio.hpp"
#include "storage/blobs.hpp"
#include "webhooks/sender.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json/array.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>

namespace reel::app {

namespace asio = boost::asio;

namespace {

// Freed memory malloc keeps at the top of each heap (sys::keep_freed_memory).
constexpr std::size_t k_kept_free_memory = 8 << 20;

// /readyz's checks: the database answers, the data directory takes writes,
// the media tools are there. Details go to the log only (/readyz is public).
std::vector<api::readiness_check> readiness_checks(db::gateway& db, worker_pool& pool, const std::string& data_dir) {
  std::vector<api::readiness_check> checks;
  checks.push_back({"database", [&db]() -> asio::awaitable<std::optional<std::string>> {
                      try {
                        co_await db.read([](db::transaction& s) { s.query("SELECT 1"); });
                      } catch (const std::exception& e) {
                        log::warn("readiness: the database is not usable", {{"error", e.what()}});
                        co_return std::string("the database is not usable");
                      }
                      co_return std::nullopt;
                    }});
  // (Lambdas handed to offload are named first: see offload's comment.)
  checks.push_back({"storage", [&pool, dir = data_dir]() -> asio::awaitable<std::optional<std::string>> {
                      auto probe = [&dir] { return sys::probe_writable(dir); };
                      auto problem = co_await pool.offload(probe);
                      if (!problem) co_return std::nullopt;
                      // Full is not broken: reads and DELETE (which frees space) still work, so
                      // the node stays in rotation; uploads get 507.
                      auto full = [&dir] {
                        std::error_code ec;
                        auto space = std::filesystem::space(dir, ec);
                        return !ec && space.available < (1 << 20);
                      };
                      if (co_await pool.offload(full)) {
                        log::warn("readiness: the data directory is full", {{"error", *problem}});
                        co_return std::nullopt;
                      }
                      log::warn("readiness: the data directory is not writable", {{"error", *problem}});
                      co_return std::string("the data directory is not writable");
                    }});
  checks.push_back({"ffmpeg", [&pool]() -> asio::awaitable<std::optional<std::string>> {
                      auto find = []() -> std::optional<std::string> {
                        for (const char* tool : {"ffmpeg", "ffprobe"})
                          if (!sys::find_executable(tool)) return std::string(tool) + " is not on the PATH";
                        return std::nullopt;
                      };
                      co_return co_await pool.offload(find);
                    }});
  return checks;
}

http::server_options server_options_of(const config& cfg) {
  http::server_options options;
  options.headers_timeout = cfg.headers_timeout;
  options.keepalive_timeout = cfg.keepalive_timeout;
  options.shutdown_timeout = cfg.shutdown_timeout;
  options.default_body_limit = cfg.max_json_bytes;
  options.max_connections_per_address = cfg.max_connections_per_address;
  options.unlimited_peers = cfg.trusted_proxies;
  return options;
}

realtime::socketio_options realtime_options_of(const config& cfg) {
  realtime::socketio_options o;
  o.ping_interval = cfg.ping_interval;
  o.ping_timeout = cfg.ping_timeout;
  o.connect_timeout = cfg.realtime_connect_timeout;
  o.max_sessions_per_address = cfg.realtime_max_per_address;
  o.trusted_proxies = cfg.trusted_proxies;
  o.trusted_origins = cfg.cors_origins;
  return o;
}

// The SMTP sender when REEL_SMTP_URL is set, else null (no email is sent).
std::unique_ptr<mail::smtp_mailer> make_mailer(const config& cfg, asio::any_io_executor ex, const clock& c) {
  if (cfg.smtp_url.empty()) return nullptr;
  mail::smtp_server server;
  try {
    server = mail::parse_smtp_url(cfg.smtp_url);
  } catch (const std::invalid_argument& e) {
    throw config_error(e.what());
  }
  std::unique_ptr<asio::ssl::context> tls;
  try {
    tls = mail::tls_context();
  } catch (const std::runtime_error& e) {
    throw startup_error(e.what());
  }
  log::info("email through SMTP", {{"server", server.where()}, {"authenticated", !server.user.empty()}});
  mail::mailer_settings settings;
  settings.from = cfg.smtp_from;
  try {
    return std::make_unique<mail::smtp_mailer>(ex, c, std::move(server), std::move(tls), settings);
  } catch (const std::invalid_argument& e) {
    throw config_error(e.what());
  }
}

// One server process: every part, built in dependency order.
class server_node {
 public:
  server_node(const config& cfg, asio::io_context& io, worker_pool& pool, db::database& database)
      : secret_(secret_key_of(cfg, database, clock_)),
        links_(secret_, cfg.secret_key_previous),
        cfg_(cfg),
        io_(io),
        pool_(pool),
        db_(pool, database),
        cluster_(make_cluster(cfg, io.get_executor(), clock_, account_settings_of(cfg).throttle)),
        hub_(cluster_ ? static_cast<event_hub&>(cluster_->hub) : local_hub_),
        worker_events_(cluster_ ? nullptr
                                : std::make_unique<cluster::database_event_tail>(
                                      io, db_, db::listen_for_events(database, io.get_executor()))),
        accounts_(db_, clock_, account_settings_of(cfg)),
        organizations_(db_, accounts_, clock_),
        smtp_(make_mailer(cfg, io.get_executor(), clock_)),
        mailer_(smtp_.get()),
        recovery_(db_, accounts_, clock_, recovery_settings_of(cfg)),
        recovery_api_{recovery_, cfg.trusted_proxies},
        invitations_(db_, accounts_, clock_, invitation_settings_of(cfg)),
        guard_(accounts_, cfg.cors_origins),
        files_(storage_dir_of(cfg), cfg.storage_reserve_bytes),
        reserve_(io, pool, cfg, files_.space()),
        tools_(find_tools()),
        processor_(io, db_, files_, tools_, hub_, clock_, processor_settings_of(cfg, cfg.workers),
                   db::listen_for_jobs(database, io.get_executor())),
        thumbnails_(io, pool, tools_, cfg.thumbnail_concurrency, cfg.thumbnail_cache_bytes, child_limits_of(cfg)),
        videos_(video_context()),
        uploads_(video_context(), cfg.upload_expiry),
        reconciler_(video_context(), cfg.reconcile_grace),
        video_api_{videos_,
                   pool,
                   files_,
                   thumbnails_,
                   cfg.max_upload_bytes,
                   api::stream_cache(),
                   api::list_cache(cfg.list_cache)},
        upload_api_{uploads_, pool, files_, cfg.max_upload_bytes},
        account_api_{accounts_, cfg.secure_cookies, cfg.trusted_proxies},
        views_(db_, io.get_executor(), clock_, secret_),
        view_api_{views_, cfg.trusted_proxies},
        realtime_(io, accounts_, hub_, realtime_options_of(cfg)),
        chain_(middleware_chain()),
        server_(io, routes_, chain_, server_options_of(cfg)),
        lag_(io, metrics_),
        session_sweep_(io, "session sweep", std::chrono::hours(6), [this] { return sweep_sessions(); }),
        upload_sweep_(io, "upload sweep", api::upload_sweep_interval(cfg.upload_expiry),
                      [this] { return sweep_uploads(); }),
        job_counts_(io, "job count refresh", std::chrono::seconds(5), [this] { return refresh_job_counts(); }),
        reconcile_sweep_(io, "reconciliation", cfg.reconcile_interval, [this] { return reconcile(); }),
        view_prune_(io, "view prune", std::chrono::minutes(10), [this] { return prune_views(); }) {
    check_password_dictionary();
    recovery_.use_mailer(mailer_);
    invitations_.use_mailer(mailer_);
    wire_events();
    add_routes();
    add_gauges();
  }

  // Listens, starts the workers and the housekeeping; returns the address.
  asio::ip::tcp::endpoint start();
  // Stops accepting, lets requests and jobs finish, then calls `done`.
  void shutdown(std::function<void()> done);
  // Every route of the main listener, one `METHOD PATTERN` line each.
  void print_routes(std::ostream& out) const {
    for (const auto* r : routes_.routes()) out << http::beast_http::to_string(r->method) << ' ' << r->pattern << '\n';
  }

 private:
  static domain::account_settings account_settings_of(const config& cfg) {
    domain::account_settings s;
    s.session_ttl = cfg.session_ttl;
    s.hash_threads = cfg.password_hash_threads;
    s.hash_queue = cfg.password_hash_queue;
    s.cost.memlimit = std::size_t(cfg.password_hash_memory_mib) << 20;
    s.cost.opslimit = cfg.password_hash_passes;
    s.password_dictionary = cfg.password_dictionary;
    s.registrations_per_address_hour = cfg.registrations_per_address_hour;
    s.registrations_per_hour = cfg.registrations_per_hour;
    s.session_idle = cfg.session_idle;
    if (cfg.default_org_quota_bytes) s.default_storage_quota = static_cast<std::int64_t>(*cfg.default_org_quota_bytes);
    return s;
  }
  static reel::webhooks::sender_settings webhook_settings_of(const config& cfg) {
    reel::webhooks::sender_settings s;
    if (!cfg.webhook_retry_schedule.empty()) {
      try {
        s.retry_schedule = reel::webhooks::parse_retry_schedule(cfg.webhook_retry_schedule);
      } catch (const std::invalid_argument& e) {
        throw startup_error(std::string("REEL_WEBHOOK_RETRY_SCHEDULE_MS: ") + e.what() + ".");
      }
    }
    s.client.allow_private = cfg.webhook_allow_private;
    s.owner = "webhooks/" + ids::random_id(9);
    return s;
  }
  static domain::invitation_settings invitation_settings_of(const config& cfg) {
    domain::invitation_settings s;
    s.public_url = public_url_of(cfg);
    return s;
  }
  domain::video_context video_context() {
    return {db_, pool_, files_, clock_, hub_, processor_, static_cast<int>(cfg_.job_max_attempts), &links_};
  }
  http::handler middleware_chain() {
    return http::compose({http::request_id(), http::access_log(metrics_), http::security_headers(cfg_.secure_cookies),
                          http::cors(cfg_.cors_origins, {"/api/stream/", "/api/public/", "/oembed"}),
                          api::tus_headers(), http::error_handler()},
                         http::dispatch_route());
  }
  void check_password_dictionary() {
    try {
      accounts_.passwords().check_dictionary();
    } catch (const std::exception& e) {
      throw startup_error(std::string("REEL_PASSWORD_DICTIONARY: ") + e.what() + ".");
    }
  }
  void wire_events();
  void wire_cluster();
  void on_control(const boost::json::object& m);
  void add_routes();
  void add_gauges();
  void start_metrics_listener();
  asio::awaitable<void> sweep_sessions();
  asio::awaitable<void> sweep_uploads();
  asio::awaitable<void> reconcile() { co_await reconciler_.run(); }
  asio::awaitable<void> prune_views() { co_await views_.prune(); }
  asio::awaitable<void> refresh_job_counts();

  system_clock clock_;
  std::string secret_;           // REEL_SECRET_KEY or the generated one
  auth::playback_signer links_;  // signs and checks playback links
  const config& cfg_;
  asio::io_context& io_;
  worker_pool& pool_;
  db::gateway db_;
  http::metrics metrics_;
  http::router routes_;
  std::unique_ptr<cluster::services> cluster_;  // null on a single node (no REEL_REDIS_URL)
  local_event_hub local_hub_;
  event_hub& hub_;  // the cluster's, or this process's alone
  // Without Redis: the events of separate `reel worker`s, read from the database.
  std::unique_ptr<cluster::database_event_tail> worker_events_;
  domain::accounts accounts_;
  domain::organizations organizations_;
  std::unique_ptr<mail::smtp_mailer> smtp_;  // null without REEL_SMTP_URL
  domain::mailer* mailer_;                   // what the domain sends email through; null: none
  domain::recovery recovery_;
  api::recovery_api recovery_api_;
  domain::invitations invitations_;
  domain::api_keys api_keys_{db_, accounts_, clock_};
  api::guard guard_;
  storage::layout files_;
  storage_reserve reserve_;  // the data directory's ballast, given up when the database finds the volume full
  media::paths tools_;
  jobs::processor processor_;
  media::thumbnailer thumbnails_;
  domain::videos videos_;
  domain::uploads uploads_;
  domain::reconciler reconciler_;
  api::video_api video_api_;
  domain::captions captions_{video_context(), videos_};
  api::caption_api caption_api_{videos_, captions_, pool_};
  // MP4 downloads of HLS rungs, as many ffmpeg runs at once as thumbnails.
  media::rung_mp4_maker rung_mp4s_{io_, pool_, tools_, cfg_.thumbnail_concurrency, child_limits_of(cfg_)};
  domain::downloads downloads_{video_context(), videos_, rung_mp4s_};
  api::download_api download_api_{downloads_, pool_};
  // Chosen posters: as many ffmpeg runs at once as thumbnails.
  media::poster_maker poster_maker_{io_, tools_, cfg_.thumbnail_concurrency, child_limits_of(cfg_)};
  domain::posters posters_{video_context(), poster_maker_};
  api::poster_api poster_api_{posters_};
  api::upload_api upload_api_;
  api::account_api account_api_;
  domain::views views_;  // counts plays (video_api_.on_play)
  api::view_api view_api_;
  domain::sharing sharing_{db_};
  api::sharing_api sharing_api_{videos_, organizations_, sharing_, cfg_.public_url, cfg_.trusted_proxies};
  domain::webhooks webhooks_{db_, clock_};
  reel::webhooks::sender webhook_sender_{io_, db_, clock_, webhook_settings_of(cfg_)};
  realtime::socketio_server realtime_;
  http::handler chain_;  // the server keeps references to the router and the chain
  http::server server_;
  http::router metrics_routes_;
  http::handler metrics_chain_ = http::compose({http::request_id(), http::error_handler()}, http::dispatch_route());
  std::optional<http::server> metrics_server_;
  http::loop_monitor lag_;
  periodic_task session_sweep_, upload_sweep_, job_counts_, reconcile_sweep_, view_prune_;
  std::map<std::string, double> job_count_values_;
};

void server_node::wire_events() {
  // Every change to an organization's videos goes through the hub (the
  // cluster's: other nodes' changes too): it drops that organization's cached lists.
  hub_.subscribe([this](const event& e) {
    video_api_.lists.changed(e.organization_id);
    sharing_api_.lists.changed(e.organization_id);
  });
  auto drop_stream = [this](const std::string& id) {
    video_api_.streams.invalidate(id);
    if (cluster_) cluster_->line.publish(cluster::control_channel, {{"t", "video"}, {"id", id}});
  };
  processor_.on_video_changed = drop_stream;
  videos_.on_video_changed = drop_stream;
  posters_.on_video_changed = drop_stream;
  reconciler_.on_video_changed = drop_stream;
  video_api_.on_play = api::play_counter(view_api_);
  webhooks_.on_queued = [this] { webhook_sender_.notify(); };
  video_api_.captions = &captions_;
  accounts_.on_logout = [this](const std::string& session_id, const std::string& token_hash) {
    realtime_.session_revoked(session_id);
    if (cluster_)
      cluster_->line.publish(cluster::control_channel,
                             {{"t", "logout"}, {"session", session_id}, {"token", token_hash}});
  };
  accounts_.on_api_key_revoked = [this](const std::string& key_id, const std::string& token_hash) {
    realtime_.credential_revoked(realtime::credential_kind::api_key, key_id);
    if (cluster_)
      cluster_->line.publish(cluster::control_channel, {{"t", "apikey"}, {"key", key_id}, {"token", token_hash}});
  };
  accounts_.on_sessions_revoked = [this](const std::string& user_id, const std::vector<std::string>& ids) {
    for (const auto& id : ids) realtime_.session_revoked(id);
    if (!cluster_) return;
    boost::json::array sessions(ids.begin(), ids.end());
    cluster_->line.publish(cluster::control_channel, {{"t", "sessions"}, {"user", user_id}, {"sessions", sessions}});
  };
  accounts_.on_membership_changed = [this](const std::string& org_id, const std::string& user_id,
                                           std::optional<model::role> role) {
    realtime_.membership_changed(org_id, user_id, role);
    if (cluster_) {
      boost::json::value now = role ? boost::json::value(model::role_name(*role)) : boost::json::value(nullptr);
      cluster_->line.publish(cluster::control_channel,
                             {{"t", "member"}, {"org", org_id}, {"user", user_id}, {"role", now}});
    }
  };
  if (cluster_) wire_cluster();
  if (worker_events_)
    worker_events_->on_event = [this](const event& e) {
      hub_.publish(e);  // to the rooms, and the organization's lists go
      if (auto id = cluster::video_id_of(e); !id.empty()) video_api_.streams.invalidate(id);
    };
}

// What other nodes tell this one, and what it does when Redis comes and goes.
void server_node::wire_cluster() {
  accounts_.on_memberships_changed = [this] {
    cluster_->line.publish(cluster::control_channel, {{"t", "memberships"}});
  };
  accounts_.use_login_limiter(cluster_->logins);
  accounts_.use_rate_limiter(cluster_->rates);
  uploads_.use_cluster_locks(cluster_->writers);
  cluster_->line.on(cluster::control_channel, [this](const boost::json::object& m) { on_control(m); });
  // While Redis is down, other nodes' revocations are not heard: trust a
  // cached token for a second only. Once it is back, whatever was missed
  // meanwhile is forgotten.
  const auto cache_ttl = account_settings_of(cfg_).cache_ttl;
  accounts_.set_cache_ttl(std::chrono::seconds(1));  // until the link is up
  cluster_->line.on_lost = [this] {
    accounts_.set_cache_ttl(std::chrono::seconds(1));
    accounts_.forget_all();
  };
  cluster_->line.on_resync = [this, cache_ttl] {
    accounts_.set_cache_ttl(cache_ttl);
    accounts_.forget_all();
    video_api_.lists.clear();
    video_api_.streams.clear();
    sharing_api_.lists.clear();
  };
}

void server_node::on_control(const boost::json::object& m) {
  auto text = [&m](const char* key) -> std::string {
    const boost::json::value* v = m.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::string type = text("t");
  if (type == "logout") {
    accounts_.forget_session(text("token"));
    realtime_.session_revoked(text("session"));
  } else if (type == "apikey") {  // revoked on another node
    accounts_.forget_session(text("token"));
    realtime_.credential_revoked(realtime::credential_kind::api_key, text("key"));
  } else if (type == "sessions") {  // a password change or a logout everywhere
    accounts_.forget_all();
    if (const auto* ids = m.if_contains("sessions"); ids && ids->is_array())
      for (const auto& id : ids->get_array())
        if (id.is_string()) realtime_.session_revoked(std::string(id.get_string()));
  } else if (type == "member") {
    accounts_.forget_all();
    auto role = model::parse_role(text("role"));  // null or unknown: removed
    realtime_.membership_changed(text("org"), text("user"), role);
  } else if (type == "memberships") {
    accounts_.forget_all();
  } else if (type == "video") {
    video_api_.streams.invalidate(text("id"));
  }
}

void server_node::add_routes() {
  api::add_account_routes(routes_, guard_, account_api_);
  api::add_recovery_routes(routes_, recovery_api_);
  api::add_organization_routes(routes_, guard_, organizations_);
  api::add_invitation_routes(routes_, guard_, invitations_);
  api::add_api_key_routes(routes_, guard_, api_keys_);
  api::add_video_routes(routes_, guard_, video_api_);
  api::add_stream_routes(routes_, guard_, video_api_);
  api::add_caption_routes(routes_, guard_, caption_api_);
  api::add_download_routes(routes_, guard_, download_api_);
  api::add_poster_routes(routes_, guard_, poster_api_);
  api::add_view_routes(routes_, guard_, view_api_);
  api::add_upload_routes(routes_, guard_, upload_api_);
  api::add_sharing_routes(routes_, guard_, sharing_api_);
  api::add_webhook_routes(routes_, guard_, webhooks_);
  realtime_.add_routes(routes_);
  api::add_openapi_route(routes_);
  auto checks = readiness_checks(db_, pool_, storage_dir_of(cfg_));
  if (cluster_)
    checks.push_back({"redis",
                      [this]() -> asio::awaitable<std::optional<std::string>> {
                        std::string problem = cluster_->line.problem();
                        co_return problem.empty() ? std::nullopt : std::optional<std::string>(problem);
                      },
                      /*required=*/false});
  api::add_ops_routes(routes_, metrics_, std::move(checks), {.token = cfg_.metrics_token});
  std::filesystem::path web_dir = cfg_.web_dir.empty() ? api::default_web_dir() : std::filesystem::path(cfg_.web_dir);
  api::add_web_routes(routes_, pool_, web_dir);
  api::add_metrics_route(metrics_routes_, metrics_, {.open = true});
}

void server_node::add_gauges() {
  auto gauge = [this](const char* name, const char* help, std::function<double()> read) {
    metrics_.add_gauge(name, help, "", std::move(read));
  };
  gauge("reel_open_connections", "HTTP connections open now.", [this] { return double(server_.open_connections()); });
  gauge("reel_threadpool_size", "Threads for blocking and CPU work.", [this] { return double(pool_.size()); });
  gauge("reel_realtime_sessions", "Socket.IO (Engine.IO) sessions open now.",
        [this] { return double(realtime_.open_sessions()); });
  gauge("reel_thumbnail_renders_total", "On-demand thumbnails rendered by ffmpeg.",
        [this] { return double(thumbnails_.runs()); });
  gauge("reel_thumbnail_cache_bytes", "On-demand thumbnails kept on disk, in bytes.",
        [this] { return double(thumbnails_.cached_bytes()); });
  gauge("reel_views_counted_total", "Views counted by this process.", [this] { return double(views_.counted()); });
  gauge("reel_views_dropped_total", "Plays not counted: too many counting writes were under way.",
        [this] { return double(views_.dropped()); });
  gauge("reel_views_failed_total", "Plays not counted: the write failed.", [this] { return double(views_.failed()); });
  gauge("reel_jobs_running_here", "Processing jobs running in this process.",
        [this] { return double(processor_.running_jobs()); });
  if (smtp_) {
    gauge("reel_emails_sent_total", "Emails the SMTP server accepted.", [this] { return double(smtp_->delivered()); });
    gauge("reel_emails_failed_total", "Emails given up after their last try.",
          [this] { return double(smtp_->failed()); });
    gauge("reel_emails_pending", "Emails waiting to be sent or being sent.",
          [this] { return double(smtp_->pending()); });
  }
  if (cluster_) {
    auto& line = cluster_->line;
    gauge("reel_cluster_connected", "1 when this node hears the others through Redis.",
          [&line] { return line.connected() ? 1.0 : 0.0; });
    gauge("reel_cluster_messages_published_total", "Messages this node sent to the others.",
          [&line] { return double(line.published()); });
    gauge("reel_cluster_messages_received_total", "Messages this node heard from the others.",
          [&line] { return double(line.received()); });
    gauge("reel_cluster_messages_dropped_total", "Messages dropped from a full outbox while Redis was down.",
          [&line] { return double(line.dropped()); });
  }
  // Jobs by state, refreshed every few seconds (a query, so not per scrape).
  for (const char* state : {"queued", "running", "succeeded", "failed", "cancelled"})
    metrics_.add_gauge("reel_jobs", "Jobs in the queue by state.", std::string("state=\"") + state + "\"",
                       [this, state] {
                         auto it = job_count_values_.find(state);
                         return it == job_count_values_.end() ? 0.0 : it->second;
                       });
}

asio::awaitable<void> server_node::refresh_job_counts() {
  auto rows = co_await db_.read([](db::transaction& s) { return db::count_jobs_by_state(s); });
  job_count_values_.clear();
  for (const auto& [state, n] : rows) job_count_values_[std::string(model::state_name(state))] = double(n);
}

asio::awaitable<void> server_node::sweep_sessions() {
  auto n = co_await accounts_.sweep_sessions();
  if (n > 0) log::info("sessions swept", {{"removed", n}});
  auto links = co_await recovery_.sweep();
  if (links > 0) log::info("password reset links swept", {{"removed", links}});
}

asio::awaitable<void> server_node::sweep_uploads() { co_await uploads_.remove_expired(); }

void server_node::start_metrics_listener() {
  if (cfg_.metrics_port == 0) return;
  metrics_server_.emplace(io_, metrics_routes_, metrics_chain_, server_options_of(cfg_));
  try {
    auto at = metrics_server_->listen(cfg_.metrics_host, cfg_.metrics_port);
    log::info("metrics listening", {{"address", at.address().to_string()}, {"port", at.port()}});
  } catch (const boost::system::system_error& e) {
    throw config_error("Cannot listen for metrics on " + cfg_.metrics_host + ":" + std::to_string(cfg_.metrics_port) +
                       ": " + e.code().message() + ".");
  }
  metrics_server_->start();
}

asio::ip::tcp::endpoint server_node::start() {
  // Only the scratch directories of processes that are gone: others sharing
  // the data directory keep their uploads in progress.
  storage::scratch_sweep leftovers;
  try {
    leftovers = files_.prepare(cfg_.reconcile_grace);
  } catch (const std::system_error& e) {  // e.g. a network volume mounted without locks (flock: ENOLCK)
    throw startup_error("The storage directory cannot hold this process's locked scratch directory in tmp/: " +
                        std::string(e.what()) + ".");
  }
  if (!leftovers.removed.empty() || leftovers.loose > 0)
    log::info("removed unfinished uploads of processes that are gone",
              {{"scratch_dirs", leftovers.removed.size()}, {"files", leftovers.loose}});
  reserve_.start(db_);
  if (cluster_) cluster_->line.start();
  asio::co_spawn(io_, thumbnails_.load(files_.root()), log_failure("reading the thumbnail cache"));
  asio::ip::tcp::endpoint bound;
  try {
    bound = server_.listen(cfg_.host, cfg_.port);
  } catch (const boost::system::system_error& e) {
    throw config_error("Cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port) + ": " + e.code().message() +
                       ".");
  }
  server_.start();
  // Links in emails name the port actually bound (port 0: any free one).
  if (cfg_.public_url.empty()) {
    std::string here = "http://localhost:" + std::to_string(bound.port());
    recovery_.set_public_url(here);
    invitations_.set_public_url(here);
  }
  start_metrics_listener();
  processor_.start();
  if (worker_events_) worker_events_->start();
  lag_.start();
  asio::co_spawn(io_, refresh_job_counts(), log_failure("job count refresh"));
  job_counts_.start();
  session_sweep_.start();  // forget sessions that expired or were revoked
  upload_sweep_.start();   // unfinished uploads past their expiry go, with their videos and files
  // Files without rows and rows without files (a crash's leftovers): now, then periodically.
  asio::co_spawn(io_, reconcile(), log_failure("reconciliation"));
  reconcile_sweep_.start();
  view_prune_.start();      // viewers past the 30-minute window, per-day counts past 400 days
  webhook_sender_.start();  // deliveries left pending by any process, then new ones
  return bound;
}

void server_node::shutdown(std::function<void()> done) {
  // Stop accepting and let requests finish; meanwhile stop the workers
  // (their children are killed and their jobs put back in the queue).
  auto pending = std::make_shared<int>(metrics_server_ ? 3 : 2);
  auto one_done = [this, pending, done = std::move(done)] {
    if (--*pending > 0) return;
    lag_.stop();
    if (smtp_) smtp_->stop();
    session_sweep_.stop();
    upload_sweep_.stop();
    reserve_.stop();
    job_counts_.stop();
    reconcile_sweep_.stop();
    view_prune_.stop();
    if (!cluster_) return done();
    // The last events (jobs put back in the queue) go out before the link closes.
    // What the coroutine uses are its parameters, kept in its frame: a
    // lambda's captures would die with this handler at its first suspension.
    auto last_words = [](server_node* self, std::function<void()> then) -> asio::awaitable<void> {
      co_await self->cluster_->line.flush(std::chrono::seconds(2));
      self->cluster_->line.stop();
      then();
    };
    asio::co_spawn(io_, last_words(this, done), log_failure("stopping the cluster link"));
  };
  webhook_sender_.stop();  // a delivery being sent is sent again by whoever claims it after its lease
  realtime_.stop();        // WebSockets and held polls are not requests that finish by themselves
  if (worker_events_) worker_events_->stop();
  server_.shutdown(one_done);
  if (metrics_server_) metrics_server_->shutdown(one_done);
  processor_.stop(one_done);
}

}  // namespace

int run_print_routes(const config& given, std::ostream& out) {
  // The real wiring, against a scratch data directory of its own: the node
  // is built (which adds every route) and dropped without listening.
  std::string scratch = (std::filesystem::temp_directory_path() / "reel-routes-XXXXXX").string();
  if (!::mkdtemp(scratch.data())) throw startup_error("Cannot make a temporary data directory for --print-routes.");
  struct remove_scratch {
    std::string dir;
    ~remove_scratch() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{scratch};
  config cfg = given;
  cfg.data_dir = scratch;
  cfg.database_url.clear();
  cfg.storage_dir.clear();
  cfg.redis_url.clear();
  cfg.smtp_url.clear();
  cfg.storage_reserve_bytes = 0;
  log::set_level(log::level::warn);
  prepare_data_dir(cfg);
  asio::io_context io(1);
  worker_pool pool(1);
  system_clock wall_clock;
  auto database = open_database(cfg, wall_clock);
  {
    server_node node(cfg, io, pool, *database);
    node.print_routes(out);
  }
  pool.join();
  out.flush();
  return out ? 0 : 1;
}

int run_serve(const config& cfg) {
  log::set_level(cfg.log_level);
  // sendfile(2) to a socket the peer closed raises SIGPIPE; the error code is enough.
  std::signal(SIGPIPE, SIG_IGN);
  prepare_data_dir(cfg);
  sys::keep_freed_memory(k_kept_free_memory);
  auto fd_limit = sys::raise_fd_limit();
  bool short_slice = sys::request_short_slice();  // this thread runs the loop

  asio::io_context io(1);
  worker_pool pool(cfg.threadpool_size);
  system_clock wall_clock;
  auto database = open_database(cfg, wall_clock);
  server_node node(cfg, io, pool, *database);
  auto bound = node.start();
  log::info("listening", {{"address", bound.address().to_string()},
                          {"port", bound.port()},
                          {"data_dir", cfg.data_dir},
                          {"storage_dir", storage_dir_of(cfg)},
                          {"node", node_name_of(cfg)},
                          {"redis", !cfg.redis_url.empty()},
                          {"threadpool", cfg.threadpool_size},
                          {"fd_limit", fd_limit},
                          {"short_slice", short_slice}});

  asio::signal_set signals(io, SIGINT, SIGTERM);
  int exit_code = 0;
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log::info("shutting down", {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"}});
    node.shutdown([&] {
      signals.cancel();
      io.stop();
    });
    // A second signal while draining: stop at once.
    signals.async_wait([&](boost::system::error_code ec2, int) {
      if (ec2) return;
      log::warn("second signal: stopping without waiting");
      exit_code = 1;
      io.stop();
    });
  });
  io.run();
  pool.join();
  log::info("stopped");
  log::flush();
  return exit_code;
}

}  // namespace reel::app
