#include "storage/blobs.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/system.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace reel::storage {

namespace fs = std::filesystem;

bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  return true;
}

bool is_plain_relative_path(std::string_view path, int max_segments, std::size_t max_bytes) noexcept {
  if (path.empty() || path.size() > max_bytes) return false;
  int segments = 0;
  std::size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty() || seg.front() == '.' || ++segments > max_segments) return false;
    for (char ch : seg)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

fs::path layout::video_dir(std::string_view org_id, std::string_view video_id) const {
  if (!is_valid_id(org_id) || !is_valid_id(video_id)) throw std::invalid_argument("invalid id in a storage path");
  return root_ / "orgs" / std::string(org_id) / "videos" / std::string(video_id);
}

scratch_sweep layout::prepare(std::chrono::seconds untouched_for) {
  fs::create_directories(tmp_dir());
  if (!scratch_) scratch_ = std::make_shared<scratch_dir>(tmp_dir());
  return remove_abandoned_scratch(untouched_for);
}

scratch_sweep layout::remove_abandoned_scratch(std::chrono::seconds untouched_for) const {
  return storage::remove_abandoned_scratch(tmp_dir(), scratch(), untouched_for);
}

namespace {

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) sys::throw_errno("open " + dir.string());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) sys::throw_errno("fsync " + dir.string());
}

// Starts writing [offset, offset + length) back to the disk without waiting:
// the fsync that makes an upload durable then finds most of it done, and
// the disk works while the network delivers the next bytes. Only a hint
// (errors are reported by that fsync), and only for large writes.
void start_writeback(int fd, std::uint64_t offset, std::size_t length) {
  constexpr std::size_t k_min_bytes = 256 << 10;
  if (length >= k_min_bytes)
    ::sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length), SYNC_FILE_RANGE_WRITE);
}

}  // namespace

temp_file::temp_file(const layout& l) {
  path_ = l.scratch() / (ids::random_id(12) + ".part");
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd_ < 0) sys::throw_errno("create " + path_.string());
}

temp_file::~temp_file() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

void temp_file::write(std::string_view bytes) {
  const std::uint64_t start = size_;
  const std::size_t length = bytes.size();
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      sys::throw_errno("write " + path_.string());
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  start_writeback(fd_, start, length);
}

void temp_file::commit(const fs::path& final_path) {
  if (::fsync(fd_) != 0) sys::throw_errno("fsync " + path_.string());
  ::close(fd_);
  fd_ = -1;
  fs::create_directories(final_path.parent_path());
  if (::rename(path_.c_str(), final_path.c_str()) != 0) sys::throw_errno("rename to " + final_path.string());
  committed_ = true;
  fsync_dir(final_path.parent_path());
}

upload_file::upload_file(const fs::path& path) : path_(path) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) sys::throw_errno("open " + path_.string());
}

void upload_file::create(const fs::path& path) {
  fs::create_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) sys::throw_errno("create " + path.string());
  ::close(fd);
  fsync_dir(path.parent_path());
}

upload_file::~upload_file() {
  if (fd_ >= 0) ::close(fd_);
}

void upload_file::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) sys::throw_errno("truncate " + path_.string());
}

void upload_file::write_at(std::uint64_t offset, std::string_view bytes) {
  const std::uint64_t start = offset;
  const std::size_t length = bytes.size();
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      sys::throw_errno("write " + path_.string());
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  start_writeback(fd_, start, length);
}

std::uint64_t upload_file::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) sys::throw_errno("stat " + path_.string());
  return static_cast<std::uint64_t>(st.st_size);
}

void upload_file::sync() {
  if (::fsync(fd_) != 0) sys::throw_errno("fsync " + path_.string());
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  fs::path tmp = path;
  tmp += ".tmp-" + ids::fast_id();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) sys::throw_errno("create " + tmp.string());
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      sys::throw_errno("write " + tmp.string());
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    sys::throw_errno("fsync " + tmp.string());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    sys::throw_errno("rename to " + path.string());
  }
  fsync_dir(path.parent_path());
}

std::uint64_t outputs_size(const fs::path& video_dir) noexcept {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator top(video_dir, ec), end; !ec && top != end; top.increment(ec)) {
    std::string name = top->path().filename().string();
    if (name == "original" || name == "thumbs" || name.starts_with("work-")) continue;
    std::error_code e;
    if (top->is_regular_file(e)) {
      auto n = top->file_size(e);
      if (!e) total += n;
      continue;
    }
    if (!top->is_directory(e)) continue;
    for (fs::recursive_directory_iterator it(top->path(), e), stop; !e && it != stop; it.increment(e)) {
      std::error_code fe;
      if (it->is_regular_file(fe)) {
        auto n = it->file_size(fe);
        if (!fe) total += n;
      }
    }
  }
  return total;
}

bool remove_tree(const fs::path& p) noexcept {
  std::error_code ec;
  fs::remove_all(p, ec);
  return !ec;
}

}  // namespace reel::storage

namespace reel::storage {

std::optional<std::string> read_small_file(const fs::path& path, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::nullopt;
    sys::throw_errno("open " + path.string());
  }
  std::string out;
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  char buf[16384];
  while (regular) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "read " + path.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      throw error(errc::internal, "The file " + path.string() + " is larger than expected.");
    }
  }
  ::close(fd);
  if (!regular) return std::nullopt;
  return out;
}

}  // namespace reel::storage
