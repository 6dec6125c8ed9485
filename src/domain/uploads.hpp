// Resumable (tus) uploads: creating one creates its video (`uploading`) and
// an empty original file; bytes are recorded only once they are on disk;
// the last byte makes the video `queued` with its processing job in one
// transaction; an unfinished upload expires `expiry` after its last bytes.
// One writer at a time per upload. Coroutines on the loop thread.
#pragma once

#include "domain/coordination.hpp"
#include "domain/videos.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace reel::domain {

class uploads {
 public:
  uploads(video_context c, std::chrono::seconds expiry) : c_(c), expiry_(expiry) {}

  struct new_upload {
    std::int64_t length = 0;
    std::string metadata;  // the Upload-Metadata header as sent, echoed on HEAD
    videos::new_video video;
  };
  struct created {
    model::upload upload;
    model::video video;
  };
  // Publishes video:created. The declared length is charged to the
  // organization's storage at once (domain/quotas.hpp): error(payload_too_large)
  // "storage quota exceeded: X of Y used", with nothing written, when it
  // does not fit.
  boost::asio::awaitable<created> create(const model::principal& who, const model::org_scope& in, const new_upload& n);

  // The upload `id` if `who` may write to it: error(not_found) for an
  // unknown id or another organization's upload (or when `named_org`, the
  // X-Organization-Id header, names another organization), error(forbidden)
  // below the member role, error(gone) once an unfinished upload has expired
  // (unless `allow_expired`).
  boost::asio::awaitable<model::upload> writable(const model::principal& who, std::string_view named_org,
                                                 const std::string& id, bool allow_expired = false);

  // Records that the bytes up to `received` are stored durably (not the
  // last one) and pushes the expiry back. error(not_found) when it is gone.
  boost::asio::awaitable<void> record_offset(const model::upload& u, std::int64_t received);
  // As record_offset; the last byte completes the upload: its video becomes
  // `queued` with its processing job, in one transaction, and is returned
  // (video:updated is published).
  boost::asio::awaitable<std::optional<model::video>> record_received(const model::upload& u, std::int64_t received);

  // Terminates `u`: an unfinished upload goes with its video and file
  // (video:deleted); a finished one only forgets the upload.
  boost::asio::awaitable<void> terminate(const model::upload& u);

  // Removes uploads past their expiry as terminate() does, except those
  // being written (next time). Returns how many went.
  boost::asio::awaitable<std::size_t> remove_expired();

  // When an upload expires if no more bytes come from now on.
  sys_time expiry_from_now() const { return c_.time.now() + expiry_; }
  // When `u` expires unless more bytes come (as recorded).
  sys_time expires_at(const model::upload& u) const { return from_iso8601(u.expires_at).value_or(c_.time.now()); }

  // The right to write to one upload, held for a request's life: in this
  // process, and through `writer_locks` (when set) in the whole cluster. A
  // second writer gets error(locked) instead of interleaving bytes.
  class writer_lock {
   public:
    writer_lock(writer_lock&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), id_(std::move(other.id_)), remote_(std::move(other.remote_)) {}
    writer_lock& operator=(writer_lock&&) = delete;
    ~writer_lock();

   private:
    friend class uploads;
    writer_lock(uploads& owner, const std::string& id, std::function<void()> abort);
    uploads* owner_;
    std::string id_;
    std::shared_ptr<void> remote_;
  };
  // `abort` stops the writer (a termination calls it); may be empty.
  boost::asio::awaitable<writer_lock> lock_for_writing(const std::string& id, std::function<void()> abort = {});
  // Stops the request writing to `id`, if any, in this process or another
  // of the cluster (it keeps what arrived), and waits a moment for it to end.
  boost::asio::awaitable<void> stop_writer(const std::string& id);

  // The cluster-wide half of the writer lock (several nodes); `l` must
  // outlive this object.
  void use_cluster_locks(writer_locks& l);

 private:
  // After forgetting `u`: an unfinished upload's files go (video:deleted).
  boost::asio::awaitable<void> remove_files(const model::upload& u);

  video_context c_;
  std::chrono::seconds expiry_;
  // Uploads a request (or the expiry sweep) is working on now, with how to
  // stop it. Loop thread only.
  std::unordered_map<std::string, std::function<void()>> busy_;
  writer_locks* cluster_ = nullptr;
};

}  // namespace reel::domain
