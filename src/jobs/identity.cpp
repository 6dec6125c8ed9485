#include "jobs/identity.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace reel::jobs {

namespace {

std::string file_safe(const std::string& node) {
  std::string out;
  for (char c : node) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == ':';
    out += ok ? c : '_';
  }
  return out.empty() ? "node" : out;
}

}  // namespace

std::shared_ptr<const worker_identity> worker_identity::acquire(const std::filesystem::path& dir,
                                                                const std::string& node) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error("The worker identity directory " + dir.string() + " cannot be made: " + ec.message());
  const std::string base = file_safe(node);
  for (int slot = 0; slot < k_max_slots; ++slot) {
    auto path = dir / (base + "." + std::to_string(slot) + ".lock");
    // O_CLOEXEC: ffmpeg children must not keep the lock alive after the process dies.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      throw std::runtime_error("The worker identity file " + path.string() +
                               " cannot be opened: " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::string name = node + "/w" + std::to_string(slot);
      return std::shared_ptr<const worker_identity>(new worker_identity(std::move(name), slot, fd));
    }
    int e = errno;
    ::close(fd);
    if (e != EWOULDBLOCK)
      throw std::runtime_error("The worker identity file " + path.string() + " cannot be locked: " + std::strerror(e));
  }
  throw std::runtime_error("All " + std::to_string(k_max_slots) + " worker identities of node " + node + " in " +
                           dir.string() + " are held by live processes.");
}

worker_identity::~worker_identity() { ::close(fd_); }

}  // namespace reel::jobs
