#include "media/mp4_duration.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

namespace reel::media {

namespace {

// Boxes looked at per level before giving up: an output of reel's has a
// handful before 'moov'; a file of tiny boxes is not one.
constexpr int k_max_boxes = 1024;

std::uint64_t big_endian(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

struct extent {
  std::uint64_t begin;
  std::uint64_t end;
};

// The content of the first box of `type` among the boxes filling [begin, end).
std::optional<extent> find_box(const read_at_fn& read_at, extent within, std::string_view type) {
  std::uint64_t at = within.begin;
  for (int seen = 0; seen < k_max_boxes && within.end - at >= 8; ++seen) {
    std::array<unsigned char, 16> head{};
    std::size_t got = read_at(at, head);
    if (got < 8) return std::nullopt;
    std::uint64_t size = big_endian(head.data(), 4);
    std::uint64_t header = 8;
    if (size == 1) {  // a 64-bit size follows the type
      if (got < 16) return std::nullopt;
      size = big_endian(head.data() + 8, 8);
      header = 16;
    } else if (size == 0) {  // the box runs to the end of its container
      size = within.end - at;
    }
    if (size < header || size > within.end - at) return std::nullopt;
    if (std::string_view(reinterpret_cast<const char*>(head.data()) + 4, 4) == type)
      return extent{at + header, at + size};
    at += size;
  }
  return std::nullopt;
}

[[noreturn]] void fail(const char* what, const std::filesystem::path& file) {
  throw std::system_error(errno, std::generic_category(), std::string(what) + " " + file.string());
}

}  // namespace

std::optional<double> mp4_declared_duration(std::uint64_t size, const read_at_fn& read_at) {
  auto moov = find_box(read_at, {0, size}, "moov");
  if (!moov) return std::nullopt;
  auto mvhd = find_box(read_at, *moov, "mvhd");
  if (!mvhd) return std::nullopt;
  // version(1) flags(3), then version 0: created(4) modified(4) timescale(4)
  // duration(4); version 1: created(8) modified(8) timescale(4) duration(8).
  const std::uint64_t length = mvhd->end - mvhd->begin;
  if (length < 20) return std::nullopt;  // shorter than the least header
  std::array<unsigned char, 32> body{};
  std::size_t got = read_at(mvhd->begin, std::span(body).first(std::min<std::uint64_t>(32, length)));
  const bool v1 = got >= 1 && body[0] == 1;
  const std::size_t need = v1 ? 32 : 20;
  if (got < need) return std::nullopt;
  const std::uint64_t timescale = big_endian(body.data() + (v1 ? 20 : 12), 4);
  const std::uint64_t duration = v1 ? big_endian(body.data() + 24, 8) : big_endian(body.data() + 16, 4);
  const std::uint64_t unknown = v1 ? UINT64_MAX : UINT32_MAX;
  if (timescale == 0 || duration == unknown) return std::nullopt;
  return static_cast<double>(duration) / static_cast<double>(timescale);
}

std::optional<double> mp4_declared_duration(const std::filesystem::path& file) {
  struct closing {
    int fd;
    ~closing() {
      if (fd >= 0) ::close(fd);
    }
  } f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail("open", file);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail("stat", file);
  auto read_at = [&](std::uint64_t offset, std::span<unsigned char> out) -> std::size_t {
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(f.fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("read", file);
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  };
  return mp4_declared_duration(static_cast<std::uint64_t>(st.st_size), read_at);
}

}  // namespace reel::media
