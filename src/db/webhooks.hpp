// Repository of webhook endpoints, the outbox of their messages and the
// deliveries of those messages (docs/api-webhooks.md). Each function runs
// inside the caller's transaction.
//
// The outbox is written by record_webhook_event in the transaction of the
// change it announces (the repositories of videos, uploads, jobs and
// memberships call it), so that a change and its webhooks commit or roll
// back together: one message per event, and one pending delivery per
// enabled endpoint of the organization that subscribes to its type.
//
// Deliveries are claimed with a lease as jobs are (db/jobs.hpp): on SQLite
// write transactions run one at a time; on PostgreSQL the pick is
// `SELECT ... FOR UPDATE SKIP LOCKED`, and the claim's UPDATE takes a
// delivery only if it is still claimable. A sender that dies holding one
// loses it when its lease expires, and another sends it again with the same
// message id.
#pragma once

#include "db/database.hpp"
#include "model/accounts.hpp"
#include "model/videos.hpp"
#include "model/webhooks.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reel::db {

using model::webhook_delivery;
using model::webhook_endpoint;

void insert_webhook_endpoint(transaction& s, const webhook_endpoint& e);
// The endpoint `id` of organization `org_id` (nullopt for another's).
std::optional<webhook_endpoint> find_webhook_endpoint(transaction& s, const std::string& org_id, const std::string& id);
// Oldest first.
std::vector<webhook_endpoint> list_webhook_endpoints(transaction& s, const std::string& org_id);
// Writes url, events, enabled, secret, disabled_reason, disabled_at,
// failing_since and updated_at of `e` (found by its id and organization).
bool update_webhook_endpoint(transaction& s, const webhook_endpoint& e);
// Deletes the endpoint and its deliveries.
bool delete_webhook_endpoint(transaction& s, const std::string& org_id, const std::string& id);

// The outbox: records event `type` of organization `org_id` with `data`
// (the body is {"type", "timestamp": now, "data"}) for each enabled
// endpoint that subscribes to it. Writes nothing when there is none.
// Returns the number of deliveries queued.
int record_webhook_event(transaction& s, const std::string& org_id, const std::string& type,
                         const boost::json::object& data, const std::string& now);
// record_webhook_event for a video: data {id, organizationId, title,
// status, error, sizeBytes, durationSec, createdAt, readyAt}. The second
// form reads the video by id (nothing when it does not exist).
void record_video_event(transaction& s, const model::video& v, const std::string& type, const std::string& now);
void record_video_event(transaction& s, const std::string& video_id, const std::string& type, const std::string& now);
// record_webhook_event for a membership: data {organizationId, userId, role}.
void record_member_event(transaction& s, const std::string& org_id, const std::string& user_id,
                         const std::optional<model::role>& role, const std::string& type, const std::string& now);

// A message of `type` to endpoint `e` alone, whatever it subscribes to (a
// test event); returns its delivery.
webhook_delivery queue_webhook_message(transaction& s, const webhook_endpoint& e, const std::string& type,
                                       const boost::json::object& data, const std::string& now);

// The endpoint's deliveries, newest first, at most `limit`.
std::vector<webhook_delivery> list_webhook_deliveries(transaction& s, const std::string& endpoint_id, int limit);
std::optional<webhook_delivery> find_webhook_delivery(transaction& s, const std::string& endpoint_id,
                                                      const std::string& id);
// Sends the delivery again from the start of the retry schedule (attempts
// back to 0, due at `now`); false when it is being sent right now.
bool redeliver_webhook(transaction& s, const std::string& endpoint_id, const std::string& id, const std::string& now);

// A delivery claimed by a sender, with what it needs to send it.
struct claimed_delivery {
  webhook_delivery delivery;
  std::string url, secret;
  std::string message_created_at;
};

// The pending delivery due first (next_attempt_at <= now, no live lease) of
// an enabled endpoint, taken for `owner` until `lease_until`, its attempt
// counted. nullopt when there is none.
std::optional<claimed_delivery> claim_webhook_delivery(transaction& s, const std::string& owner, const std::string& now,
                                                       const std::string& lease_until);

// True when a delivery could be claimed at `now` (a read: senders look
// before they take the write lock).
bool webhook_delivery_due(transaction& s, const std::string& now);

// What an attempt saw, and what becomes of the delivery.
struct attempt_outcome {
  model::delivery_status status = model::delivery_status::pending;
  std::string next_attempt_at;  // when pending
  std::optional<std::int64_t> response_code, latency_ms;
  std::optional<std::string> response_body, error;
};
// Records the attempt if `owner` still holds the delivery; false otherwise.
bool finish_webhook_attempt(transaction& s, const std::string& id, const std::string& owner, const attempt_outcome& o,
                            const std::string& now);

// The endpoint answered with success: it is not failing any more.
void webhook_endpoint_succeeded(transaction& s, const std::string& endpoint_id);
// An attempt failed: returns since when the endpoint has failed without a
// success (`now` if this is the first).
std::string webhook_endpoint_failed(transaction& s, const std::string& endpoint_id, const std::string& now);
// Turns the endpoint off with `reason`, which its organization sees.
void disable_webhook_endpoint(transaction& s, const std::string& endpoint_id, const std::string& reason,
                              const std::string& now);

// Forgets the delivery log before `before`: deliveries that ended
// (delivered or failed) and were last changed before it, and messages
// created before it that no delivery needs any more. Returns the
// deliveries removed.
std::int64_t prune_webhook_log(transaction& s, const std::string& before);

}  // namespace reel::db
