// The job queue's rows: claim with a lease, heartbeat, finish, retry.
// Each function runs inside the caller's (write) transaction. Two claims
// never take one job: on SQLite because write transactions run one at a
// time (BEGIN IMMEDIATE); on PostgreSQL, where they run side by side,
// because a claim locks the job it picks and passes over the jobs other
// claims hold (`SELECT ... FOR UPDATE SKIP LOCKED`, chosen by
// transaction::locks_rows()). In both, the claim's UPDATE takes the job only
// if it is still runnable, so that even a claim without those guarantees
// could not take a job twice.
//
// Workers in other processes hear of a new job at once through
// announce_job and listen_for_jobs (PostgreSQL's NOTIFY and LISTEN); their
// poll is the fallback.
#pragma once

#include "db/videos.hpp"

namespace reel::db {

// A runnable job (queued and due, or running with an expired lease: its
// worker died), fairly among organizations so that one's burst cannot
// starve the others: the organization with the fewest running jobs; among
// equals, the next one after `after_org` (the organization the caller
// served last; "" to start from the first) in a round of organization ids;
// then its oldest job. Marks it running for `owner` until `lease_until` and
// counts an attempt (a queued job) or a takeover (an expired lease: the
// attempt its dead worker began goes on, uncounted). nullopt when there is none.
//
// On PostgreSQL the order holds as well as concurrent claims allow: a job
// another claim is taking is passed over for the next one in that order,
// and claims in flight do not see each other's running jobs in the count
// until they commit.
std::optional<job> claim_job(transaction& s, const std::string& owner, const std::string& now,
                             const std::string& lease_until, const std::string& after_org = {});

// Extends the lease; false when the job is no longer this owner's
// (taken over, cancelled or deleted): the worker must stop.
bool renew_lease(transaction& s, const std::string& job_id, const std::string& owner, const std::string& lease_until);

// Ends the job (state succeeded, failed or cancelled) if `owner` still holds it.
bool finish_job(transaction& s, const std::string& job_id, const std::string& owner, model::job_state state,
                const std::optional<std::string>& error, const std::string& now);

// Why a running job goes back to the queue: a retry after a failure (its
// attempt stays counted); a shutdown (the attempt is given back); a
// resource failure (the attempt is given back, a resource retry counted).
enum class requeue_reason { retry, shutdown, resource };

// Puts the job back in the queue to run after `run_after`, if `owner` still
// holds it; announces it when it can run at once (`run_after` <= `now`: a
// shutdown hands it to the workers of other processes).
bool requeue_job(transaction& s, const std::string& job_id, const std::string& owner, const std::string& error,
                 const std::string& run_after, const std::string& now, requeue_reason why = requeue_reason::retry);

// The running jobs whose lease owner starts with `owner_prefix` (a worker
// identity whose previous holder is known to be dead) go back to the queue
// at once, as a takeover would take them: the attempt given back, a
// takeover counted; their videos are queued again. Returns their ids.
std::vector<std::string> reclaim_jobs_of(transaction& s, const std::string& owner_prefix, const std::string& now);

// Tells the workers of every process, when the transaction commits, that
// a job can run now (PostgreSQL: a notification on the jobs channel; SQLite:
// nothing, since the process that enqueues calls jobs::processor::notify).
// insert_job does it for every queued job.
void announce_job(transaction& s);

// A listener (not yet started) that hears announce_job from every process
// and calls back on `loop`; nullptr when the backend has none (SQLite).
std::unique_ptr<listener> listen_for_jobs(database& d, boost::asio::any_io_executor loop);

std::optional<job> find_job(transaction& s, const std::string& job_id);
// The queued or running job of a video, if any.
std::optional<job> active_job_for_video(transaction& s, const std::string& video_id);
// Jobs by state, for /metrics.
std::vector<std::pair<model::job_state, std::int64_t>> count_jobs_by_state(transaction& s);

// Video fields the pipeline sets.
void set_video_status(transaction& s, const std::string& id, model::video_status status,
                      const std::optional<std::string>& error, const std::string& now);
void set_video_progress(transaction& s, const std::string& id, const std::optional<std::string>& stage,
                        const std::optional<double>& percent, const std::string& now);
struct probe_fields {
  std::optional<double> duration_sec;
  std::optional<std::int64_t> width, height;
  std::optional<std::string> video_codec, audio_codec;
};
void set_video_probe(transaction& s, const std::string& id, const probe_fields& p, const std::string& now);
void set_video_ready(transaction& s, const std::string& id, const std::string& renditions_json, const std::string& now);
// Marks a video being processed as playable before it is ready (an early
// rendition exists): false when it is not processing any more, or already was.
bool set_video_playable(transaction& s, const std::string& id, const std::string& now);
// Takes that back (the early rendition failed).
void clear_video_playable(transaction& s, const std::string& id, const std::string& now);
// Resets a video for processing again: queued, no error, no progress.
void reset_video_for_processing(transaction& s, const std::string& id, const std::string& now);

}  // namespace reel::db
