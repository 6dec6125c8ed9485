#include "domain/uploads.hpp"

#include "core/errors.hpp"
#include "core/fault.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "db/database.hpp"
#include "db/jobs.hpp"
#include "db/uploads.hpp"
#include "db/videos.hpp"
#include "domain/permissions.hpp"
#include "domain/processing.hpp"
#include "domain/quotas.hpp"
#include "jobs/processor.hpp"
#include "model/events.hpp"
#include "storage/blobs.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

error no_such_upload() { return error(errc::not_found, "No such upload."); }

// An unfinished upload goes with its video (and the video's row takes the
// upload's with it); a finished one only forgets the upload.
void forget(db::transaction& tx, const model::upload& u) {
  if (u.completed_at)
    db::delete_upload(tx, u.id);
  else
    db::delete_video(tx, u.organization_id, u.video_id);
}

}  // namespace

uploads::writer_lock::writer_lock(uploads& owner, const std::string& id, std::function<void()> abort)
    : owner_(&owner), id_(id) {
  if (!owner_->busy_.emplace(id_, std::move(abort)).second)
    throw error(errc::locked, "Another request is writing to this upload; try again in a moment.");
}

uploads::writer_lock::~writer_lock() {
  remote_.reset();  // the cluster's lock goes first: it was taken last
  if (owner_) owner_->busy_.erase(id_);
}

asio::awaitable<uploads::writer_lock> uploads::lock_for_writing(const std::string& id, std::function<void()> abort) {
  writer_lock lock(*this, id, std::move(abort));
  if (cluster_) {
    // Lost (this process stalled past the lock's expiry and another took
    // it): stop writing, as a termination would.
    auto lost = [this, id] {
      log::warn("upload writer lock lost; stopping the writer", {{"upload", id}});
      if (auto it = busy_.find(id); it != busy_.end() && it->second) it->second();
    };
    lock.remote_ = co_await cluster_->acquire(id, lost);
    if (!lock.remote_) throw error(errc::locked, "Another request is writing to this upload; try again in a moment.");
  }
  co_return lock;
}

void uploads::use_cluster_locks(writer_locks& l) {
  cluster_ = &l;
  l.on_stop_requested = [this](const std::string& id) {
    if (auto it = busy_.find(id); it != busy_.end() && it->second) it->second();
  };
}

asio::awaitable<void> uploads::stop_writer(const std::string& id) {
  auto it = busy_.find(id);
  if (it == busy_.end()) {
    if (cluster_) co_await cluster_->stop_writer(id);
    co_return;
  }
  if (it->second) it->second();
  auto loop = co_await asio::this_coro::executor;
  asio::steady_timer tick(loop);
  for (int i = 0; i < 120 && busy_.count(id); ++i) {
    tick.expires_after(std::chrono::milliseconds(25));
    co_await tick.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<uploads::created> uploads::create(const model::principal& who, const model::org_scope& in,
                                                  const new_upload& n) {
  require(in, action::upload_video);
  std::string now = to_iso8601(c_.time.now());
  created out;
  model::video& v = out.video;
  v.id = ids::random_id(12);
  v.organization_id = in.id;
  v.title = n.video.title;
  v.description = n.video.description;
  v.status = model::video_status::uploading;
  v.original_filename = n.video.original_filename;
  v.content_type = n.video.content_type;
  v.visibility = n.video.visibility;
  v.size_bytes = n.length;
  v.created_by = who.person_id();
  v.created_at = v.updated_at = now;
  model::upload& u = out.upload;
  u.id = ids::random_id(18);
  u.organization_id = v.organization_id;
  u.video_id = v.id;
  u.created_by = v.created_by;
  u.length = v.size_bytes;
  u.metadata = n.metadata;
  u.created_at = u.updated_at = now;
  u.expires_at = to_iso8601(expiry_from_now());

  // The declared length is reserved against the quota from now on: refused
  // before the file is made when it cannot fit, and charged with the rows.
  const std::string& org_id = in.id;
  auto usage = co_await c_.db.read([&](db::transaction& tx) { return db::find_storage_usage(tx, org_id); });
  if (usage && !fits(*usage, n.length)) throw quota_exceeded(*usage);

  // The file first, then the rows: a crash in between leaves a directory
  // without a row, which the reconciliation sweep removes.
  auto path = c_.files.original(v.organization_id, v.id);
  auto create_file = [&path] {
    storage::upload_file::create(path);
    fault::crash_point("upload-create:before-row");
  };
  co_await c_.pool.offload(create_file);
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  co_await record_or_remove(c_, dir, [&](db::transaction& tx) {
    charge_within_quota(tx, v.organization_id, u.length);  // quota_exceeded: the file goes
    db::insert_video(tx, v);
    db::insert_upload(tx, u);
  });
  log::info("upload created", {{"upload", u.id}, {"video", v.id}, {"length", u.length}});
  c_.hub.publish(model::video_created(v));
  co_return out;
}

asio::awaitable<model::upload> uploads::writable(const model::principal& who, std::string_view named_org,
                                                 const std::string& id, bool allow_expired) {
  if (!storage::is_valid_id(id)) throw no_such_upload();
  auto u = co_await c_.db.read([&](db::transaction& tx) { return db::find_upload(tx, id); });
  if (!u) throw no_such_upload();
  const model::membership* m = resource_membership(who, u->organization_id, named_org);
  if (!m) throw no_such_upload();
  if (!model::at_least(m->role, required_role(action::upload_video)))
    throw error(errc::forbidden, "Your role in this organization does not allow uploading; it needs member or higher.");
  if (!allow_expired && !u->completed_at && u->expires_at < to_iso8601(c_.time.now()))
    throw error(errc::gone, "This upload expired and was discarded; start a new one.");
  co_return std::move(*u);
}

asio::awaitable<void> uploads::record_offset(const model::upload& u, std::int64_t received) {
  std::string now = to_iso8601(c_.time.now());
  std::string expires = to_iso8601(expiry_from_now());
  const std::string& id = u.id;
  auto record = [&](db::transaction& tx) { return db::set_upload_received(tx, id, received, now, expires); };
  if (!co_await c_.db.write(record)) throw no_such_upload();
}

asio::awaitable<std::optional<model::video>> uploads::record_received(const model::upload& u, std::int64_t received) {
  if (received < u.length) {
    co_await record_offset(u, received);
    co_return std::nullopt;
  }
  std::string now = to_iso8601(c_.time.now());
  std::string expires = to_iso8601(expiry_from_now());
  int attempts = c_.max_job_attempts;
  auto complete = [&](db::transaction& tx) -> std::optional<model::video> {
    auto v = db::find_video(tx, u.organization_id, u.video_id);
    if (!v || !db::find_upload(tx, u.id)) return std::nullopt;
    db::complete_upload(tx, u.id, now, expires);
    db::set_video_status(tx, u.video_id, model::video_status::queued, std::nullopt, now);
    enqueue_processing(tx, *v, now, attempts);
    return db::find_video(tx, u.organization_id, u.video_id);
  };
  auto v = co_await c_.db.write(complete);
  if (!v) throw no_such_upload();
  log::info("video uploaded", {{"video", v->id}, {"org", v->organization_id}, {"bytes", v->size_bytes}});
  c_.hub.publish(model::video_updated(*v));
  c_.processor.notify();
  co_return v;
}

asio::awaitable<void> uploads::remove_files(const model::upload& u) {
  if (u.completed_at) co_return;  // the video stays
  // The rows went first: a crash before the files go leaves a directory
  // without a row, which the reconciliation sweep removes.
  auto dir = c_.files.video_dir(u.organization_id, u.video_id);
  auto remove_job = [&dir] {
    fault::crash_point("upload-delete:before-files");
    return storage::remove_tree(dir);
  };
  if (!co_await c_.pool.offload(remove_job)) log::warn("upload files not fully removed", {{"upload", u.id}});
  c_.hub.publish(model::video_deleted(u.organization_id, u.video_id));
}

asio::awaitable<void> uploads::terminate(const model::upload& u) {
  co_await c_.db.write([&](db::transaction& tx) { forget(tx, u); });
  co_await remove_files(u);
  log::info("upload terminated", {{"upload", u.id}, {"finished", u.completed_at.has_value()}});
}

asio::awaitable<std::size_t> uploads::remove_expired() {
  std::string now = to_iso8601(c_.time.now());
  auto expired = co_await c_.db.read([&](db::transaction& tx) { return db::expired_uploads(tx, now, 100); });
  // Uploads a request is writing are left for the next sweep; the others are
  // held busy meanwhile, so that no request starts on them.
  std::vector<model::upload> taken;
  for (auto& u : expired)
    if (busy_.emplace(u.id, nullptr).second) taken.push_back(std::move(u));
  // On several nodes, also those another node writes to wait.
  std::vector<std::shared_ptr<void>> held;
  if (cluster_) {
    std::vector<model::upload> free;
    for (auto& u : taken) {
      auto handle = co_await cluster_->acquire(u.id, {});
      if (handle) {
        held.push_back(std::move(handle));
        free.push_back(std::move(u));
      } else {
        busy_.erase(u.id);
      }
    }
    taken = std::move(free);
  }
  std::size_t removed = 0;
  try {
    co_await c_.db.write([&](db::transaction& tx) {
      for (const auto& u : taken) forget(tx, u);
    });
    for (const auto& u : taken) {
      ++removed;
      co_await remove_files(u);
      if (!u.completed_at)
        log::info("upload expired", {{"upload", u.id}, {"video", u.video_id}, {"received", u.received}});
    }
  } catch (...) {
    for (const auto& u : taken) busy_.erase(u.id);
    throw;
  }
  for (const auto& u : taken) busy_.erase(u.id);
  co_return removed;
}

}  // namespace reel::domain
