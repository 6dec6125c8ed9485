// A small tmpfs mounted on a fresh directory for the test's life: a volume
// that fills up for real (disk-full tests). Mounting needs root (CI runs as
// root); where it is not allowed, `mounted()` is false and `why_not()` says
// why, for GTEST_SKIP.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace reel::test {

class tmpfs_mount {
 public:
  explicit tmpfs_mount(std::uint64_t bytes) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "reel-tmpfs-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      why_not_ = "mounting a tmpfs is not allowed here (" + std::string(std::strerror(errno)) +
                 "); the disk-full tests need root (as in CI)";
      return;
    }
    mounted_ = true;
  }
  ~tmpfs_mount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  tmpfs_mount(const tmpfs_mount&) = delete;
  tmpfs_mount& operator=(const tmpfs_mount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }
  const std::string& dir() const { return dir_; }

  // Bytes still free on the volume.
  std::uint64_t available() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Appends to `path` (inside the volume) until the volume is full or
  // `limit` bytes are added; returns the file's size afterwards. The file
  // stands for whatever else fills a disk.
  std::uint64_t fill(const std::filesystem::path& path, std::uint64_t limit = UINT64_MAX) const {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    std::string block(64 * 1024, 'x');
    std::uint64_t added = 0;
    while (added < limit) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), limit - added));
      ssize_t put = ::write(fd, block.data(), n);
      if (put <= 0) break;
      added += static_cast<std::uint64_t>(put);
    }
    struct stat st {};
    ::fstat(fd, &st);
    ::close(fd);
    return static_cast<std::uint64_t>(st.st_size);
  }

 private:
  std::string dir_, why_not_;
  bool mounted_ = false;
};

}  // namespace reel::test
