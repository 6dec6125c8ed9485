// This process's own part of the data directory's tmp/, for files being
// written (a multipart upload before it becomes a video's original):
//
//   <data>/tmp/<random>/          one per live process
//   <data>/tmp/<random>/.lock     flock(2)ed by that process while it lives
//
// Several processes (serve, worker; on one host or on shared storage) use
// one data directory: a process removes only the subdirectories whose lock
// it can take, which proves that their owner is gone (the kernel releases
// a dead process's flock, even after kill -9). A live process's upload in
// progress is never touched. All functions block: call them on the pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace reel::storage {

class scratch_dir {
 public:
  // Makes a new subdirectory of `tmp` for this process and locks it (it is
  // made under a dot-name and renamed once locked, so that no one sees it
  // unlocked). Throws std::system_error.
  explicit scratch_dir(const std::filesystem::path& tmp);
  // Unlocks and removes the subdirectory (a clean exit).
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;
};

// What remove_abandoned_scratch() removed.
struct scratch_sweep {
  std::vector<std::string> removed;  // names of abandoned subdirectories
  std::size_t loose = 0;             // older files directly in tmp/ (from before per-process subdirectories)
};

// Removes the subdirectories of `tmp` whose lock can be taken (their
// process is gone), each while holding its lock; a subdirectory without a
// lock file, or a half-made dot-one, and files directly in `tmp`, only once
// untouched for `untouched_for`. `keep`: this process's own (skipped).
scratch_sweep remove_abandoned_scratch(const std::filesystem::path& tmp, const std::filesystem::path& keep,
                                       std::chrono::seconds untouched_for);

}  // namespace reel::storage
