#include "db/jobs.hpp"

#include "db/columns.hpp"
#include "db/webhooks.hpp"

namespace reel::db {

namespace {

constexpr const char* k_job_columns =
    "id, kind, organization_id, video_id, state, attempts, max_attempts, run_after, lease_owner, lease_expires_at, "
    "last_error, created_at, updated_at, takeovers, resource_retries";

// A job a claim may take: queued and due, or running on a lease that has
// expired (its worker died). Binds `now` twice.
#define REEL_JOB_RUNNABLE "((state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_expires_at < ?))"

// Fair among organizations: the runnable job of the organization with the
// fewest running jobs (live leases); among equals, round-robin: the next
// organization id after the one served last (bound twice), wrapping around,
// that organization itself last; then its oldest job. Plain SQL (a
// correlated subquery and CASE), for SQLite and PostgreSQL alike; the
// subquery reads the few running rows through jobs_claimable.
#define REEL_CLAIM_CANDIDATE                                                                      \
  "SELECT j.id FROM jobs j WHERE " REEL_JOB_RUNNABLE                                              \
  " ORDER BY (SELECT COUNT(*) FROM jobs r WHERE r.state = 'running' AND r.lease_expires_at >= ? " \
  "AND r.organization_id = j.organization_id), "                                                  \
  "CASE WHEN j.organization_id > ? THEN 0 WHEN j.organization_id < ? THEN 1 ELSE 2 END, "         \
  "j.organization_id, j.run_after, j.created_at LIMIT 1"
// Where write transactions run one at a time (SQLite), the pick stays
// valid until the UPDATE.
constexpr const char* k_claim_candidate = REEL_CLAIM_CANDIDATE;
// Where they run side by side (PostgreSQL): the pick is locked until the
// transaction ends, and a job another claim has locked is passed over for
// the next one in the same order, without waiting for it. A job claimed and
// committed since this statement began is re-checked against the WHERE
// clause on its new row and passed over too.
constexpr const char* k_claim_candidate_locking = REEL_CLAIM_CANDIDATE " FOR UPDATE SKIP LOCKED";
// Takes the job only while it is still runnable, whatever the pick saw. A
// queued job's claim counts an attempt; an expired lease's (its worker
// died) counts a takeover: the attempt it continues was counted already.
constexpr const char* k_claim_jobs =
    "UPDATE jobs SET attempts = attempts + CASE WHEN state = 'queued' THEN 1 ELSE 0 END, "
    "takeovers = takeovers + CASE WHEN state = 'running' THEN 1 ELSE 0 END, "
    "state = 'running', lease_owner = ?, lease_expires_at = ?, updated_at = ? WHERE id = ? AND " REEL_JOB_RUNNABLE;
#undef REEL_CLAIM_CANDIDATE
#undef REEL_JOB_RUNNABLE

// Where notifications of new jobs go (PostgreSQL's LISTEN/NOTIFY).
constexpr std::string_view k_jobs_channel = "reel_jobs";

constexpr const char* k_renew =
    "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'";
constexpr const char* k_finish_jobs =
    "UPDATE jobs SET state = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? "
    "WHERE id = ? AND lease_owner = ? AND state = 'running'";
// The attempt given back (shutdown, resource) and the resource retries counted, per requeue_reason.
constexpr const char* k_requeue =
    "UPDATE jobs SET state = 'queued', last_error = ?, run_after = ?, lease_owner = NULL, lease_expires_at = NULL, "
    "attempts = CASE WHEN attempts > ? THEN attempts - ? ELSE 0 END, resource_retries = resource_retries + ?, "
    "updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'";
// Running jobs whose lease owner starts with a prefix (LIKE, `\` escapes).
constexpr const char* k_running_of_owner =
    "SELECT id, video_id FROM jobs WHERE state = 'running' AND lease_owner LIKE ? ESCAPE '\\'";
// Put back at once, as a takeover: the dead run's attempt is given back and a takeover counted.
constexpr const char* k_reclaim =
    "UPDATE jobs SET state = 'queued', last_error = ?, run_after = ?, lease_owner = NULL, lease_expires_at = NULL, "
    "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, takeovers = takeovers + 1, updated_at = ? "
    "WHERE id = ? AND state = 'running' AND lease_owner LIKE ? ESCAPE '\\'";
constexpr const char* k_active_for_video =
    "SELECT id FROM jobs WHERE video_id = ? AND state IN ('queued', 'running') LIMIT 1";
constexpr const char* k_count_by_state = "SELECT state, COUNT(*) FROM jobs GROUP BY state";

constexpr const char* k_set_status =
    "UPDATE videos SET status = ?, error = ?, playable_at = NULL, updated_at = ? WHERE id = ?";
constexpr const char* k_set_playable =
    "UPDATE videos SET playable_at = ?, updated_at = ? WHERE id = ? AND status = 'processing' AND playable_at IS NULL";
constexpr const char* k_clear_playable =
    "UPDATE videos SET playable_at = NULL, updated_at = ? WHERE id = ? AND status = 'processing'";
constexpr const char* k_set_progress =
    "UPDATE videos SET progress_stage = ?, progress_percent = ?, updated_at = ? WHERE id = ?";
constexpr const char* k_set_probe =
    "UPDATE videos SET duration_sec = ?, width = ?, height = ?, video_codec = ?, audio_codec = ?, updated_at = ? "
    "WHERE id = ?";
constexpr const char* k_set_ready =
    "UPDATE videos SET status = 'ready', error = NULL, progress_stage = NULL, progress_percent = NULL, "
    "renditions = ?, ready_at = ?, playable_at = COALESCE(playable_at, ?), updated_at = ? WHERE id = ?";
constexpr const char* k_reset =
    "UPDATE videos SET status = 'queued', error = NULL, progress_stage = NULL, progress_percent = NULL, "
    "playable_at = NULL, updated_at = ? WHERE id = ?";

job to_job(const row& r) {
  job j;
  j.id = r.text(0);
  j.kind = r.text(1);
  j.organization_id = r.text(2);
  j.video_id = r.opt_text(3);
  j.state = state_column(r, 4);
  j.attempts = r.int64(5);
  j.max_attempts = r.int64(6);
  j.run_after = r.text(7);
  j.lease_owner = r.opt_text(8);
  j.lease_expires_at = r.opt_text(9);
  j.last_error = r.opt_text(10);
  j.created_at = r.text(11);
  j.updated_at = r.text(12);
  j.takeovers = r.int64(13);
  j.resource_retries = r.int64(14);
  return j;
}

}  // namespace

std::optional<job> find_job(transaction& s, const std::string& job_id) {
  static const std::string sql = std::string("SELECT ") + k_job_columns + " FROM jobs WHERE id = ?";
  auto r = s.query_one(sql, {job_id});
  if (!r) return std::nullopt;
  return to_job(*r);
}

std::optional<job> claim_job(transaction& s, const std::string& owner, const std::string& now,
                             const std::string& lease_until, const std::string& after_org) {
  const char* pick = s.locks_rows() ? k_claim_candidate_locking : k_claim_candidate;
  auto candidate = s.query_one(pick, {now, now, now, after_org, after_org});
  if (!candidate) return std::nullopt;
  std::string id = candidate->text(0);
  if (s.exec(k_claim_jobs, {owner, lease_until, now, id, now, now}) == 0) return std::nullopt;  // taken meanwhile
  return find_job(s, id);
}

void announce_job(transaction& s) { s.notify(k_jobs_channel); }

std::unique_ptr<listener> listen_for_jobs(database& d, boost::asio::any_io_executor loop) {
  return d.listen(k_jobs_channel, std::move(loop));
}

bool renew_lease(transaction& s, const std::string& job_id, const std::string& owner, const std::string& lease_until) {
  return s.exec(k_renew, {lease_until, job_id, owner}) > 0;
}

bool finish_job(transaction& s, const std::string& job_id, const std::string& owner, model::job_state state,
                const std::optional<std::string>& error, const std::string& now) {
  return s.exec(k_finish_jobs, {model::state_name(state), error, now, job_id, owner}) > 0;
}

bool requeue_job(transaction& s, const std::string& job_id, const std::string& owner, const std::string& error,
                 const std::string& run_after, const std::string& now, requeue_reason why) {
  std::int64_t give_back = why == requeue_reason::retry ? 0 : 1;
  std::int64_t resource = why == requeue_reason::resource ? 1 : 0;
  if (s.exec(k_requeue, {error, run_after, give_back, give_back, resource, now, job_id, owner}) == 0) return false;
  if (run_after <= now) announce_job(s);
  return true;
}

std::vector<std::string> reclaim_jobs_of(transaction& s, const std::string& owner_prefix, const std::string& now) {
  std::string pattern;
  for (char c : owner_prefix) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  std::vector<std::string> reclaimed;
  for (const auto& r : s.query(k_running_of_owner, {pattern})) {
    std::string id = r.text(0);
    if (s.exec(k_reclaim, {std::string("its worker stopped"), now, now, id, pattern}) == 0) continue;
    if (auto video = r.opt_text(1)) {
      set_video_progress(s, *video, std::nullopt, std::nullopt, now);
      set_video_status(s, *video, model::video_status::queued, std::nullopt, now);
    }
    reclaimed.push_back(std::move(id));
  }
  if (!reclaimed.empty()) announce_job(s);
  return reclaimed;
}

std::optional<job> active_job_for_video(transaction& s, const std::string& video_id) {
  auto r = s.query_one(k_active_for_video, {video_id});
  if (!r) return std::nullopt;
  return find_job(s, r->text(0));
}

std::vector<std::pair<model::job_state, std::int64_t>> count_jobs_by_state(transaction& s) {
  std::vector<std::pair<model::job_state, std::int64_t>> out;
  for (const auto& r : s.query(k_count_by_state)) out.emplace_back(state_column(r, 0), r.int64(1));
  return out;
}

void set_video_status(transaction& s, const std::string& id, model::video_status status,
                      const std::optional<std::string>& error, const std::string& now) {
  s.exec(k_set_status, {model::status_name(status), error, now, id});
  if (status == model::video_status::processing) record_video_event(s, id, "video.processing", now);
  if (status == model::video_status::failed) record_video_event(s, id, "video.failed", now);
}

void set_video_progress(transaction& s, const std::string& id, const std::optional<std::string>& stage,
                        const std::optional<double>& percent, const std::string& now) {
  s.exec(k_set_progress, {stage, percent, now, id});
}

void set_video_probe(transaction& s, const std::string& id, const probe_fields& p, const std::string& now) {
  s.exec(k_set_probe, {p.duration_sec, p.width, p.height, p.video_codec, p.audio_codec, now, id});
}

void clear_video_playable(transaction& s, const std::string& id, const std::string& now) {
  s.exec(k_clear_playable, {now, id});
}

bool set_video_playable(transaction& s, const std::string& id, const std::string& now) {
  if (s.exec(k_set_playable, {now, now, id}) == 0) return false;
  record_video_event(s, id, "video.playable", now);
  return true;
}

void set_video_ready(transaction& s, const std::string& id, const std::string& renditions_json,
                     const std::string& now) {
  s.exec(k_set_ready, {renditions_json, now, now, now, id});
  record_video_event(s, id, "video.ready", now);
}

void reset_video_for_processing(transaction& s, const std::string& id, const std::string& now) {
  s.exec(k_reset, {now, id});
}

}  // namespace reel::db
