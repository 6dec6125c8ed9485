#include "storage/space.hpp"

#include "core/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>

namespace reel::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_mib = 1 << 20;

}  // namespace

volume_usage usage_of(const fs::path& path) {
  fs::path at = path.empty() ? fs::path(".") : path;
  struct statvfs st {};
  while (::statvfs(at.c_str(), &st) != 0) {
    int err = errno;
    // Not made yet (a storage directory before start-up): its parent's volume.
    fs::path parent = at.parent_path().empty() ? fs::path(".") : at.parent_path();
    if (err != ENOENT || parent == at)
      throw std::system_error(err, std::generic_category(), "statvfs " + path.string());
    at = parent;
  }
  return {static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize, static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize};
}

std::uint64_t default_reserve(std::uint64_t volume_size) noexcept {
  return std::clamp<std::uint64_t>(volume_size / 50, 4 * k_mib, 256 * k_mib);
}

std::uint64_t default_ballast(std::uint64_t volume_size) noexcept {
  return std::clamp<std::uint64_t>(volume_size / 32, k_mib, 8 * k_mib);
}

space_guard::space_guard(fs::path dir, std::optional<std::uint64_t> reserve, time_source now)
    : dir_(std::move(dir)), configured_(reserve), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
}

std::uint64_t space_guard::room_locked(bool fresh) {
  auto now = now_();
  // Looked at again once a second, and after claims of half the reserve:
  // others' writes (other processes, ffmpeg) are seen before they eat it.
  if (fresh || !looked_ || now - *looked_ >= k_refresh || claimed_ >= reserve_ / 2) {
    seen_ = usage_of(dir_);
    reserve_ = configured_.value_or(default_reserve(seen_.size));
    claimed_ = 0;
    looked_ = now;
  }
  std::uint64_t spare = seen_.available > claimed_ ? seen_.available - claimed_ : 0;
  return spare > reserve_ ? spare - reserve_ : 0;
}

void space_guard::require(std::uint64_t bytes, bool count) {
  if (configured_ == std::uint64_t(0)) return;  // no reserve: writes run until the volume is full (ENOSPC)
  std::lock_guard lock(mutex_);
  // Refused only after a fresh look: a delete may have freed room meanwhile.
  if (room_locked(false) < bytes && room_locked(true) < bytes)
    throw error(errc::insufficient_storage, std::string(k_out_of_storage));
  if (count) claimed_ += bytes;
}

void space_guard::claim(std::uint64_t bytes) { require(bytes, true); }

void space_guard::check(std::uint64_t bytes) { require(bytes, false); }

void space_guard::forget() {
  std::lock_guard lock(mutex_);
  looked_.reset();
}

std::uint64_t space_guard::reserve() {
  std::lock_guard lock(mutex_);
  room_locked(false);
  return reserve_;
}

ballast::ballast(fs::path path, std::optional<std::uint64_t> bytes) : path_(std::move(path)), bytes_(bytes) {}

bool ballast::in_place() const noexcept {
  std::lock_guard lock(mutex_);
  struct stat st {};
  return ::stat(path_.c_str(), &st) == 0;
}

bool ballast::restore(std::uint64_t keep_free) noexcept {
  std::lock_guard lock(mutex_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) return true;
  try {
    auto usage = usage_of(path_.parent_path());
    std::uint64_t size = bytes_.value_or(default_ballast(usage.size));
    if (usage.available < size + keep_free) return false;
    fs::path part = path_;
    part += ".part-" + std::to_string(::getpid());
    int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    // Allocated, not sparse: the blocks are really taken (and given back on release).
    bool ok = ::posix_fallocate(fd, 0, static_cast<off_t>(size)) == 0 && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(part.c_str(), path_.c_str()) != 0) {
      ::unlink(part.c_str());
      return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool ballast::release() noexcept {
  std::lock_guard lock(mutex_);
  return ::unlink(path_.c_str()) == 0;
}

}  // namespace reel::storage
