#include "db/migrations.hpp"

#include <regex>

// One numbering for both backends, written in SQLite's dialect. On
// PostgreSQL the column types are widened by statement::for_backend (its
// INTEGER is 32 bits and REAL 4 bytes where SQLite's are 64 and 8), and
// memberships have a form of their own: they carry the `rowid` SQLite gives
// every table, the order rows were added in, which lists use to break ties
// of created_at.

namespace reel::db {

namespace {

// PostgreSQL's form of memberships: with the `rowid` SQLite gives every table.
constexpr const char* k_memberships_postgres = R"(CREATE TABLE memberships (
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
                created_at TEXT NOT NULL,
                rowid BIGINT GENERATED ALWAYS AS IDENTITY,
                PRIMARY KEY (organization_id, user_id)))";
}  // namespace

std::string statement::for_backend(std::string_view backend) const {
  if (backend != "postgresql") return sql;
  if (postgres) return postgres;
  static const std::regex integer(R"(\bINTEGER\b)"), real(R"(\bREAL\b)");
  return std::regex_replace(std::regex_replace(std::string(sql), integer, "BIGINT"), real, "DOUBLE PRECISION");
}

const std::vector<migration>& all_migrations() {
  static const std::vector<migration> all = {
      {1,
       "accounts",
       {
           R"(CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           R"(CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           {R"(CREATE TABLE memberships (
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
                created_at TEXT NOT NULL,
                PRIMARY KEY (organization_id, user_id)))",
            k_memberships_postgres},
           "CREATE INDEX memberships_by_user ON memberships(user_id, created_at)",
           R"(CREATE TABLE sessions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT))",
           "CREATE INDEX sessions_by_user ON sessions(user_id)",
       }},
      {2,
       "videos and jobs",
       {
           R"(CREATE TABLE videos (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                title TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL CHECK (status IN ('uploading', 'queued', 'processing', 'ready', 'failed')),
                progress_stage TEXT,
                progress_percent REAL,
                error TEXT,
                original_filename TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size_bytes INTEGER NOT NULL,
                duration_sec REAL,
                width INTEGER,
                height INTEGER,
                video_codec TEXT,
                audio_codec TEXT,
                renditions TEXT NOT NULL DEFAULT '[]',
                created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                ready_at TEXT))",
           "CREATE INDEX videos_by_org ON videos(organization_id, created_at, id)",
           "CREATE INDEX videos_by_org_status ON videos(organization_id, status, created_at, id)",
           R"(CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                organization_id TEXT NOT NULL,
                video_id TEXT REFERENCES videos(id) ON DELETE CASCADE,
                state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                run_after TEXT NOT NULL,
                lease_owner TEXT,
                lease_expires_at TEXT,
                last_error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL))",
           "CREATE INDEX jobs_claimable ON jobs(state, run_after)",
           "CREATE INDEX jobs_by_video ON jobs(video_id)",
       }},
      {3,
       "resumable uploads",
       {
           R"(CREATE TABLE uploads (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                length INTEGER NOT NULL CHECK (length > 0),
                received INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= length),
                metadata TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                completed_at TEXT))",
           "CREATE INDEX uploads_by_expiry ON uploads(expires_at)",
           "CREATE INDEX uploads_by_video ON uploads(video_id)",
       }},
      {4,
       "session details",
       {
           // When a session was last used (recorded at most once a minute:
           // the idle timeout), and where it was opened from.
           "ALTER TABLE sessions ADD COLUMN last_used_at TEXT",
           "ALTER TABLE sessions ADD COLUMN address TEXT",
           "ALTER TABLE sessions ADD COLUMN user_agent TEXT",
           "UPDATE sessions SET last_used_at = created_at",
       }},
      {5,
       "password resets",
       {
           // One row per link given out; only the token's SHA-256 is kept.
           // used_at: redeemed, or spent by a newer link for the same user.
           R"(CREATE TABLE password_resets (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                token_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT))",
           "CREATE INDEX password_resets_by_user ON password_resets(user_id, created_at)",
           "CREATE INDEX password_resets_by_expiry ON password_resets(expires_at)",
       }},
      {6,
       "invitations",
       {
           // `email` is lower-cased and trimmed as users.email is. An
           // invitation is pending while it has no answer (accepted, declined
           // or revoked) and has not expired.
           R"(CREATE TABLE invitations (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                email TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
                invited_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                accepted_at TEXT,
                declined_at TEXT,
                revoked_at TEXT))",
           // One unanswered invitation per organization and email: inviting
           // again refreshes it (the upsert's conflict target).
           "CREATE UNIQUE INDEX invitations_unanswered ON invitations(organization_id, email) "
           "WHERE accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL",
           "CREATE INDEX invitations_by_email ON invitations(email, created_at)",
           "CREATE INDEX invitations_by_org ON invitations(organization_id, created_at)",
       }},
      {7,
       "events outbox",
       {
           // What a process without Redis (a separate `reel worker`) tells
           // the API nodes, which tail it by id (db/events.hpp). Ids are
           // never reused, even once every row was pruned (AUTOINCREMENT;
           // PostgreSQL's identity). No foreign key: an event outlives
           // nothing and must not stop its writer.
           {R"(CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                organization_id TEXT NOT NULL,
                name TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at TEXT NOT NULL))",
            R"(CREATE TABLE events (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                organization_id TEXT NOT NULL,
                name TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at TEXT NOT NULL))"},
           "CREATE INDEX events_by_time ON events(created_at)",
       }},
      {8,
       "job takeovers and resource retries",
       {
           // attempts counts only runs that may fail for the file's sake:
           // a claim of a queued job counts one, and a run stopped by a
           // shutdown or by a resource failure gives it back. takeovers
           // counts runs whose worker died (a claim of an expired lease, or
           // the restarted process reclaiming its own); resource_retries the
           // runs put back for a resource (disk, descriptors).
           "ALTER TABLE jobs ADD COLUMN takeovers INTEGER NOT NULL DEFAULT 0",
           "ALTER TABLE jobs ADD COLUMN resource_retries INTEGER NOT NULL DEFAULT 0",
       }},
      {9,
       "sharing",
       {
           // Who may play a video without being a member: nobody (private),
           // anyone with the link (unlisted), anyone (public: also listed on
           // the organization's public page).
           "ALTER TABLE videos ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private' "
           "CHECK (visibility IN ('private', 'unlisted', 'public'))",
           // Views counted (db/views.hpp): one per viewer per video per 30 minutes.
           "ALTER TABLE videos ADD COLUMN view_count INTEGER NOT NULL DEFAULT 0",
           // The public page: an organization's public videos, newest first.
           "CREATE INDEX videos_public ON videos(organization_id, visibility, created_at, id)",
           // The organization's public address (/o/<slug>): lower-case
           // letters, digits and '-'. Existing organizations get their id in
           // hex (unique, URL-safe); an owner can change it.
           "ALTER TABLE organizations ADD COLUMN slug TEXT",
           {"UPDATE organizations SET slug = lower(hex(id))",
            "UPDATE organizations SET slug = encode(convert_to(id, 'UTF8'), 'hex')"},
           "CREATE UNIQUE INDEX organizations_by_slug ON organizations(slug)",
           // The origins whose pages may frame the embed player, separated
           // by spaces; empty: any site may.
           "ALTER TABLE organizations ADD COLUMN embed_origins TEXT NOT NULL DEFAULT ''",
           // The last view counted per viewer (a daily-salted hash, never an
           // address) and video: a view counts again 30 minutes later.
           R"(CREATE TABLE video_viewers (
                video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                viewer TEXT NOT NULL,
                counted_at TEXT NOT NULL,
                PRIMARY KEY (video_id, viewer)))",
           "CREATE INDEX video_viewers_by_time ON video_viewers(counted_at)",
           // Secrets the installation generated for itself (the signing key
           // when REEL_SECRET_KEY is not set): every node of the database
           // shares them.
           R"(CREATE TABLE server_secrets (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           // Views per video and UTC day (GET /api/videos/:id/stats).
           R"(CREATE TABLE video_view_days (
                video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                day TEXT NOT NULL,
                views INTEGER NOT NULL,
                PRIMARY KEY (video_id, day)))",
       }},
      {10,
       "captions",
       {
           // One WebVTT file per video and language (a canonical BCP 47
           // tag), normalized, in the row: at most a few MiB, read whole
           // whenever it is served, and carried by `reel db copy` and
           // every node's database with no file to keep in step.
           R"(CREATE TABLE captions (
                video_id TEXT NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
                language TEXT NOT NULL,
                label TEXT NOT NULL,
                vtt TEXT NOT NULL,
                size_bytes INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (video_id, language)))",
       }},
      {11,
       "storage quotas",
       {
           // An organization's storage limit in bytes (NULL: none; set by an
           // operator, `reel org set-quota`) and the bytes its videos take:
           // originals (a resumable upload in progress counts its declared
           // length) and processing outputs. Kept in the transactions that
           // add and remove those files' rows (domain/quotas.hpp).
           "ALTER TABLE organizations ADD COLUMN storage_quota_bytes INTEGER",
           "ALTER TABLE organizations ADD COLUMN storage_used_bytes INTEGER NOT NULL DEFAULT 0",
           // The bytes of a video's processing outputs (renditions, MP4,
           // poster), measured when they are stored; NULL: not measured
           // (videos processed before this migration: `reel org recount`
           // measures them on disk).
           "ALTER TABLE videos ADD COLUMN outputs_bytes INTEGER",
           "UPDATE videos SET outputs_bytes = 0 WHERE status IN ('uploading', 'queued') AND ready_at IS NULL",
           "UPDATE organizations SET storage_used_bytes = (SELECT COALESCE(SUM(size_bytes), 0) FROM videos "
           "WHERE videos.organization_id = organizations.id)",
       }},
      {12,
       "downloads",
       {
           // Which MP4 downloads the organization offers to whoever may play
           // its videos (docs/api-downloads.md): of the HLS renditions
           // 'none', 'highest' or 'all'; and the source-sized MP4 (1) or not (0).
           "ALTER TABLE organizations ADD COLUMN download_renditions TEXT NOT NULL DEFAULT 'highest'",
           "ALTER TABLE organizations ADD COLUMN download_source INTEGER NOT NULL DEFAULT 0",
       }},
      {13,
       "poster",
       {
           // The poster chosen for a video (PUT /api/videos/:id/poster): a
           // frame at poster_time seconds, or an uploaded image
           // (poster_image = 1, kept as poster-image.jpg); neither: the
           // automatic frame. poster_version counts the changes (it names
           // the cached scaled copies and versions the Open Graph image URL).
           "ALTER TABLE videos ADD COLUMN poster_time REAL",
           "ALTER TABLE videos ADD COLUMN poster_image INTEGER NOT NULL DEFAULT 0",
           "ALTER TABLE videos ADD COLUMN poster_version INTEGER NOT NULL DEFAULT 0",
       }},
      {14,
       "api keys",
       {
           // An organization's API keys (docs/api-keys.md): the secret is
           // never stored, only its SHA-256 (token_hash) and its first
           // characters (prefix) to tell keys apart. Revoking deletes the row.
           // last_used_at is written at most once a minute per key.
           R"(CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                prefix TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
                created_at TEXT NOT NULL,
                last_used_at TEXT))",
           "CREATE INDEX api_keys_by_organization ON api_keys (organization_id, created_at)",
       }},
      {15,
       "webhooks",
       {
           // An organization's webhook endpoints (docs/api-webhooks.md):
           // `events` is a JSON array of event types; `secret` is whsec_ and
           // the base64 of its random bytes. A disabled endpoint says why
           // (disabled_reason: NULL when an admin turned it off). Its
           // failing_since is the first failed attempt since its last
           // success: after 3 days of failures it is disabled.
           R"(CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                enabled INTEGER NOT NULL DEFAULT 1,
                secret TEXT NOT NULL,
                disabled_reason TEXT,
                disabled_at TEXT,
                failing_since TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL))",
           "CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints(organization_id, created_at)",
           // The outbox: one message per event, written in the transaction
           // of the change it announces; its id is the webhook-id header.
           R"(CREATE TABLE webhook_messages (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                event_type TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at TEXT NOT NULL))",
           // A message to one endpoint: claimed with a lease as jobs are.
           R"(CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                message_id TEXT NOT NULL REFERENCES webhook_messages(id) ON DELETE CASCADE,
                endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
                organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL,
                lease_owner TEXT,
                lease_expires_at TEXT,
                last_attempt_at TEXT,
                response_code INTEGER,
                latency_ms INTEGER,
                response_body TEXT,
                error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL))",
           "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at)",
           "CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, created_at, id)",
       }},
      {16,
       "early playback",
       {
           // When a video being processed could first be played (a stream
           // copy of an H.264/AAC source, before the ladder is done): set by
           // the worker, cleared whenever the status changes, kept at ready.
           "ALTER TABLE videos ADD COLUMN playable_at TEXT",
       }},
  };
  return all;
}

namespace {
constexpr const char* k_create_versions =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT "
    "NOT NULL)";
constexpr const char* k_max_version = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
constexpr const char* k_record_version = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)";
// PostgreSQL: held to the end of the transaction. Concurrent migrations wait
// here, before even CREATE TABLE IF NOT EXISTS, which races on PostgreSQL.
// SQLite needs none: BEGIN IMMEDIATE serializes them.
constexpr const char* k_lock_schema = "SELECT pg_advisory_xact_lock(?)";
constexpr std::int64_t k_schema_lock_key = 0x7265656c'6d696772;  // "reelmigr"

// The schema table, and on PostgreSQL the lock that keeps two processes from
// changing the schema at once.
void lock_schema(database& db, transaction& s) {
  if (db.backend() == "postgresql") s.query(k_lock_schema, {k_schema_lock_key});
  s.exec(k_create_versions);
}
}  // namespace

int migrate(database& db, const std::string& now_iso) {
  int applied = 0;
  db.transact(true, [&](transaction& s) {
    lock_schema(db, s);
    int current = static_cast<int>(s.query_one(k_max_version)->int64(0));
    int newest = all_migrations().back().version;
    if (current > newest)
      throw db_error(errc::unavailable, "the database schema is at version " + std::to_string(current) +
                                            ", newer than this reel knows (" + std::to_string(newest) +
                                            "); run a newer reel");
    for (const auto& m : all_migrations()) {
      if (m.version <= current) continue;
      for (const auto& statement : m.statements) s.exec(statement.for_backend(db.backend()));
      s.exec(k_record_version, {m.version, m.name, now_iso});
      ++applied;
    }
  });
  return applied;
}

int schema_version(database& db) {
  int v = 0;
  db.transact(false, [&](transaction& s) {
    lock_schema(db, s);
    v = static_cast<int>(s.query_one(k_max_version)->int64(0));
  });
  return v;
}

}  // namespace reel::db
