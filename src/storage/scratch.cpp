#include "storage/scratch.hpp"

#include "core/ids.hpp"
#include "core/system.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <system_error>

namespace reel::storage {

namespace fs = std::filesystem;

namespace {

constexpr const char* k_lock_name = ".lock";

bool untouched_since(const fs::path& p, fs::file_time_type before) {
  std::error_code ec;
  auto written = fs::last_write_time(p, ec);
  return !ec && written <= before;
}

// Takes the lock of the subdirectory `dir` if no live process holds it:
// the open descriptor (holding the lock), -1 when it is held, -2 when
// there is no lock file.
int try_lock(const fs::path& dir) {
  int fd = ::open((dir / k_lock_name).c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT ? -2 : -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

scratch_dir::scratch_dir(const fs::path& tmp) {
  std::string name = ids::random_id(12);
  fs::path making = tmp / ("." + name);
  fs::create_directories(making);
  lock_fd_ = ::open((making / k_lock_name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) sys::throw_errno("create " + (making / k_lock_name).string());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) sys::throw_errno("lock " + (making / k_lock_name).string());
  path_ = tmp / name;
  fs::rename(making, path_);  // the lock goes with the file
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // while still locked: no one else is removing it meanwhile
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

scratch_sweep remove_abandoned_scratch(const fs::path& tmp, const fs::path& keep, std::chrono::seconds untouched_for) {
  scratch_sweep out;
  auto before = fs::file_time_type::clock::now() - untouched_for;
  std::error_code ec;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    const fs::path& p = e.path();
    if (p == keep) continue;
    std::error_code ignored;
    bool is_dir = e.is_directory(ignored) && !e.is_symlink(ignored);
    if (!is_dir) {  // a loose file: an upload of a process from before subdirectories
      if (untouched_since(p, before) && fs::remove(p, ignored)) ++out.loose;
      continue;
    }
    std::string name = p.filename().string();
    int fd = name.starts_with(".") ? -2 : try_lock(p);
    if (fd == -1) continue;  // its process lives
    if (fd == -2 && !untouched_since(p, before)) continue;
    fs::remove_all(p, ignored);
    if (fd >= 0) ::close(fd);
    if (!ignored) out.removed.push_back(name);
  }
  return out;
}

}  // namespace reel::storage
