// A worker identity that outlives a process: the name its leases carry, so
// that the process restarting after a crash can take its own jobs back at
// once instead of waiting out their leases.
//
// Identities are slots, files `<dir>/<node>.<n>.lock`, each held with
// flock(2) by the process that uses it, for as long as it lives (the kernel
// drops the lock when the process dies, however it dies). A process takes
// the first slot it can lock; so two live processes never share one, even
// when several `serve`/`worker` processes use one data directory (and nodes
// with their own names never meet, even on shared storage). Being able to
// lock a slot proves that its previous holder is dead: the jobs still
// leased to that identity are orphans the new holder may reclaim.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace reel::jobs {

class worker_identity {
 public:
  // Takes the first free slot of `node` (1 to 64 letters, digits, `.`, `_`,
  // `:`, `-`; other characters are replaced in the file name) in `dir`,
  // made if missing. Blocking (a few file operations): call it at start-up.
  // Throws std::runtime_error, in words, when `dir` cannot be used or all
  // k_max_slots slots are held.
  static std::shared_ptr<const worker_identity> acquire(const std::filesystem::path& dir, const std::string& node);
  ~worker_identity();
  worker_identity(const worker_identity&) = delete;
  worker_identity& operator=(const worker_identity&) = delete;

  // "<node>/w<slot>": the start of every lease owner this process writes
  // ("<node>/w<slot>/<incarnation>"). Contains no `/` but the one.
  const std::string& name() const noexcept { return name_; }
  int slot() const noexcept { return slot_; }

  static constexpr int k_max_slots = 256;

 private:
  worker_identity(std::string name, int slot, int fd) : name_(std::move(name)), slot_(slot), fd_(fd) {}
  std::string name_;
  int slot_;
  int fd_;
};

}  // namespace reel::jobs
