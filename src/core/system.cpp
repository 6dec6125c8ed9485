#include "core/system.hpp"

#include "core/ids.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace reel::sys {

void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

std::optional<std::string> find_executable(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/bin:/bin";
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::optional<std::string> make_private_dir(const std::string& dir) {
  ::umask(077);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "it cannot be created: " + ec.message();
  auto tighten = [](const std::filesystem::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode) || (st.st_mode & 077) == 0) return true;
    return ::chmod(p.c_str(), st.st_mode & 0700) == 0;
  };
  if (!tighten(dir)) return std::string("its permissions cannot be set: ") + std::strerror(errno);
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) tighten(entry.path());
  return std::nullopt;
}

std::optional<std::string> probe_writable(const std::string& dir) {
  // What storing a file takes: create, write, fsync, rename over a final
  // name, fsync the directory (on a shared volume, all of these must work).
  std::string base = dir + "/.probe-" + ids::random_id(6);
  std::string file = base + ".part", renamed = base;
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create a file in " + dir + ": " + std::strerror(errno);
  bool ok = ::write(fd, "ok", 2) == 2 && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(file.c_str());
    return "cannot write to " + dir + ": " + std::strerror(err);
  }
  if (::rename(file.c_str(), renamed.c_str()) != 0) {
    err = errno;
    ::unlink(file.c_str());
    return "cannot rename a file in " + dir + ": " + std::strerror(err);
  }
  struct stat st {};
  bool there = ::stat(renamed.c_str(), &st) == 0 && st.st_size == 2;
  ::unlink(renamed.c_str());
  if (!there) return "a file renamed in " + dir + " is not there afterwards";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return "cannot open " + dir + ": " + std::strerror(errno);
  ok = ::fsync(dfd) == 0;
  err = errno;
  ::close(dfd);
  if (!ok) return "cannot fsync the directory " + dir + ": " + std::strerror(err);
  return std::nullopt;
}

unsigned long raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<unsigned long>(lim.rlim_cur);
}

bool request_short_slice() {
  // struct sched_attr of sched_setattr(2); glibc 2.36 has no wrapper.
  struct {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime, sched_deadline, sched_period;
    std::uint32_t sched_util_min, sched_util_max;
  } attr{};
  attr.size = sizeof attr;
  attr.sched_policy = 0;  // SCHED_OTHER, as before
  attr.sched_nice = 0;
  attr.sched_runtime = 100'000;  // 0.1 ms: the shortest slice the kernel takes
  return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

bool keep_freed_memory(std::size_t bytes) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_TRIM_THRESHOLD_") || (tunables && std::strstr(tunables, "malloc.trim_threshold")))
    return false;
  return ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes)) == 1;
}

}  // namespace reel::sys
