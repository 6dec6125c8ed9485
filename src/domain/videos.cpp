#include "domain/videos.hpp"

#include "auth/playback_tokens.hpp"
#include "core/errors.hpp"
#include "core/fault.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "db/database.hpp"
#include "db/jobs.hpp"
#include "db/videos.hpp"
#include "domain/permissions.hpp"
#include "domain/processing.hpp"
#include "domain/quotas.hpp"
#include "jobs/processor.hpp"
#include "model/events.hpp"
#include "storage/blobs.hpp"

namespace reel::domain {

namespace asio = boost::asio;

namespace {

error no_such_video() { return error(errc::not_found, "No such video."); }

std::int64_t unix_seconds(sys_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

asio::awaitable<void> record_or_remove(video_context& c, const std::filesystem::path& dir,
                                       const std::function<void(db::transaction&)>& record) {
  std::exception_ptr failure;
  try {
    co_await c.db.write(record);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return;
  auto remove_job = [&dir] { storage::remove_tree(dir); };
  co_await c.pool.offload(remove_job);
  std::rethrow_exception(failure);
}

asio::awaitable<model::video> videos::add(const model::principal& who, const model::org_scope& in,
                                          storage::temp_file& file, const new_video& fields) {
  require(in, action::upload_video);
  std::string now = to_iso8601(c_.time.now());
  model::video v;
  v.id = ids::random_id(12);
  v.organization_id = in.id;
  v.title = fields.title;
  v.description = fields.description;
  v.status = model::video_status::queued;
  v.original_filename = fields.original_filename;
  v.content_type = fields.content_type;
  v.visibility = fields.visibility;
  v.size_bytes = static_cast<std::int64_t>(file.size());
  v.created_by = who.person_id();
  v.created_at = v.updated_at = now;

  // The file first, then the row: a crash in between leaves a directory
  // without a row, which the reconciliation sweep removes.
  auto final_path = c_.files.original(v.organization_id, v.id);
  auto commit_job = [&file, &final_path] {
    fault::crash_point("video-add:before-file");
    file.commit(final_path);
    fault::crash_point("video-add:before-row");
  };
  co_await c_.pool.offload(commit_job);
  int attempts = c_.max_job_attempts;
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  co_await record_or_remove(c_, dir, [&](db::transaction& tx) {
    charge_within_quota(tx, v.organization_id, v.size_bytes);  // quota_exceeded: the file goes
    db::insert_video(tx, v);
    enqueue_processing(tx, v, now, attempts);
  });
  log::info("video uploaded", {{"video", v.id}, {"org", v.organization_id}, {"bytes", v.size_bytes}});
  c_.hub.publish(model::video_created(v));
  c_.processor.notify();
  co_return v;
}

asio::awaitable<db::storage_usage> videos::check_storage_room(const model::org_scope& in, std::int64_t declared) {
  require(in, action::upload_video);
  const std::string& org_id = in.id;
  auto u = co_await c_.db.read([&](db::transaction& tx) { return db::find_storage_usage(tx, org_id); });
  if (!u) throw error(errc::not_found, "No such organization.");
  if (!fits(*u, declared)) throw quota_exceeded(*u);
  co_return *u;
}

asio::awaitable<std::string> videos::list(const model::org_scope& in, const list_query& q,
                                          const page_renderer& render) {
  require(in, action::view_videos);
  const std::string& org_id = in.id;
  auto page = [&](db::transaction& tx) {
    // Each pool thread lists into its own rows, kept from its last list.
    thread_local std::vector<model::video> rows;
    db::list_videos(tx, org_id, q.status, q.after, q.limit, rows);
    return render(rows);
  };
  co_return co_await c_.db.read_statement(page);  // one query: no BEGIN and COMMIT around it
}

asio::awaitable<model::video> videos::get(const model::org_scope& in, const std::string& id) {
  require(in, action::view_videos);
  const std::string& org_id = in.id;
  auto v = co_await c_.db.read([&](db::transaction& tx) { return db::find_video(tx, org_id, id); });
  if (!v) throw no_such_video();
  co_return std::move(*v);
}

asio::awaitable<model::video> videos::update(const model::org_scope& in, const std::string& id, const changes& c) {
  require(in, action::edit_video);
  const std::string& org_id = in.id;
  std::string now = to_iso8601(c_.time.now());
  auto v = co_await c_.db.write([&](db::transaction& tx) -> std::optional<model::video> {
    bool found = true;
    if (c.title || c.description) found = db::update_video_text(tx, org_id, id, c.title, c.description, now);
    if (found && c.visibility) found = db::set_video_visibility(tx, org_id, id, *c.visibility, now);
    if (!found) return std::nullopt;
    return db::find_video(tx, org_id, id);
  });
  if (!v) throw no_such_video();
  changed(id);
  c_.hub.publish(model::video_updated(*v));
  co_return std::move(*v);
}

asio::awaitable<void> videos::remove(const model::org_scope& in, const std::string& id) {
  require(in, action::delete_video);
  const std::string& org_id = in.id;
  // The row (with its jobs and upload) first, then the files: a crash in
  // between leaves a directory without a row, which the reconciliation
  // sweep removes; the video is gone for clients at once.
  bool found = co_await c_.db.write([&](db::transaction& tx) { return db::delete_video(tx, org_id, id); });
  if (!found) throw no_such_video();
  changed(id);
  co_await c_.processor.cancel_video(id);  // kills its ffmpeg, if one runs here, and waits
  auto dir = c_.files.video_dir(org_id, id);
  auto remove_job = [&dir] {
    fault::crash_point("video-delete:before-files");
    return storage::remove_tree(dir);
  };
  if (!co_await c_.pool.offload(remove_job)) log::warn("video files not fully removed", {{"video", id}});
  c_.hub.publish(model::video_deleted(org_id, id));
}

asio::awaitable<model::video> videos::reprocess(const model::org_scope& in, const std::string& id) {
  require(in, action::edit_video);
  const std::string& org_id = in.id;
  std::string now = to_iso8601(c_.time.now());
  int attempts = c_.max_job_attempts;
  enum class outcome { ok, missing, busy, uploading };
  std::optional<model::video> v;
  auto result = co_await c_.db.write([&](db::transaction& tx) {
    db::lock_video(tx, id);  // checks, then writes: one reprocess at a time
    auto current = db::find_video(tx, org_id, id);
    if (!current) return outcome::missing;
    if (current->status == model::video_status::uploading) return outcome::uploading;
    if (db::active_job_for_video(tx, id)) return outcome::busy;
    db::reset_video_for_processing(tx, id, now);
    enqueue_processing(tx, *current, now, attempts);
    v = db::find_video(tx, org_id, id);
    return outcome::ok;
  });
  if (result == outcome::missing) throw no_such_video();
  if (result == outcome::busy) throw error(errc::conflict, "The video is being processed already.");
  if (result == outcome::uploading)
    throw error(errc::conflict, "The video is still being uploaded; it is processed once the upload ends.");
  changed(id);
  c_.processor.notify();
  c_.hub.publish(model::video_updated(*v));
  co_return std::move(*v);
}

void videos::changed(const std::string& id) const {
  if (on_video_changed) on_video_changed(id);
}

namespace {

// What a playback link says: nothing (no token), valid, or the error it earns.
struct link_verdict {
  bool present = false;
  std::optional<error> refusal;
};

link_verdict judge_link(const auth::playback_signer* links, const viewer_access& a, std::string_view video_id,
                        sys_time now) {
  if (!a.token) return {};
  auto result = links ? links->verify(*a.token, video_id, unix_seconds(now)) : auth::token_check::invalid;
  if (result == auth::token_check::valid) return {true, std::nullopt};
  if (result == auth::token_check::expired) return {true, error(errc::forbidden, "The playback link expired.")};
  return {true, error(errc::forbidden, "The playback link is not valid.")};
}

// Why `a` may play `v` (null: not found), given the link's verdict. A bad
// link is refused alike whether or not the video exists: a member of its
// organization plays anyway.
std::optional<granted_by> decide(const viewer_access& a, const model::video* v, const link_verdict& link) {
  if (v && a.who && resource_membership(*a.who, v->organization_id, a.named_org)) return granted_by::membership;
  if (link.refusal) throw *link.refusal;
  if (!v) return std::nullopt;
  if (link.present) return granted_by::link;
  if (v->visibility != model::visibility::private_) return granted_by::visibility;
  return std::nullopt;
}

}  // namespace

std::optional<granted_by> videos::may_play(const viewer_access& a, const model::video& v) const {
  return decide(a, &v, judge_link(c_.links, a, v.id, c_.time.now()));
}

asio::awaitable<playback> videos::playable(const viewer_access& a, const std::string& id, bool early) {
  auto link = judge_link(c_.links, a, id, c_.time.now());
  // Nobody signed in with a bad link: refused before the database is asked.
  if (link.refusal && !a.who) throw *link.refusal;
  std::optional<model::video> v;
  if (storage::is_valid_id(id)) {
    auto find = [&](db::transaction& tx) { return db::find_video_any_org(tx, id); };
    v = co_await c_.db.read(find);
  }
  auto why = decide(a, v ? &*v : nullptr, link);
  if (!why) throw no_such_video();
  bool early_play = early && v->status == model::video_status::processing && v->playable_at;
  if (v->status != model::video_status::ready && !early_play)
    throw error(errc::conflict,
                "The video is not ready to play yet (it is " + std::string(model::status_name(v->status)) + ").");
  co_return playback{std::move(*v), *why};
}

asio::awaitable<playback_link> videos::sign_link(const model::org_scope& in, const std::string& id,
                                                 std::chrono::seconds lifetime) {
  require(in, action::view_videos);
  if (!c_.links) throw error(errc::internal, "Playback links are not available in this process.");
  co_await get(in, id);  // error(not_found) for another organization's video
  auto expires = std::chrono::time_point_cast<std::chrono::seconds>(c_.time.now()) + lifetime;
  co_return playback_link{c_.links->sign(id, unix_seconds(expires)), expires};
}

}  // namespace reel::domain
