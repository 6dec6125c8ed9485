// Free space on the volumes reel writes to. Two guards keep a full disk
// from taking the whole API down with it:
//  - a floor of free bytes (the reserve) that uploads and processing outputs
//    may not go below, so that the database always has room for logins,
//    reads and deletes, through which space is freed again;
//  - a ballast file in the data directory, given up when the database finds
//    the volume full anyway (something else filled it) so that its writes go
//    through, and made again once space returns.
// Every function blocks (statvfs, file creation): call them on the thread
// pool. Both classes are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

namespace reel::storage {

struct volume_usage {
  std::uint64_t size = 0;       // bytes the volume holds in all
  std::uint64_t available = 0;  // bytes free for an unprivileged writer
};

// The volume holding `path`. Throws std::system_error.
volume_usage usage_of(const std::filesystem::path& path);

// The reserve kept free on a volume of `size` bytes when none is
// configured: 2 % of it, at least 4 MiB (tiny test volumes), at most 256 MiB.
std::uint64_t default_reserve(std::uint64_t volume_size) noexcept;

// The ballast made on a volume of `size` bytes: 1/32 of it, from 1 to 8 MiB.
std::uint64_t default_ballast(std::uint64_t volume_size) noexcept;

class space_guard {
 public:
  using time_source = std::function<std::chrono::steady_clock::time_point()>;

  // Watches the volume holding `dir` (which need not exist yet: its
  // nearest existing parent is looked at). `reserve`: free bytes to keep
  // (0: none, and nothing is checked); nullopt: default_reserve of the
  // volume. `now`: for tests.
  explicit space_guard(std::filesystem::path dir, std::optional<std::uint64_t> reserve = std::nullopt,
                       time_source now = nullptr);

  // Throws error(insufficient_storage) unless `bytes` more can be written
  // with the reserve still free afterwards; else counts them as used until
  // the volume is looked at again. Looks (statvfs) once every `k_refresh`
  // or half the reserve claimed, whichever comes first, and once more before
  // refusing (a delete may have freed room).
  void claim(std::uint64_t bytes);
  // As claim(), without counting the bytes: whether `bytes` would fit now.
  void check(std::uint64_t bytes);
  // The reserve in bytes.
  std::uint64_t reserve();
  // The last look is out of date (the database found the volume full): the
  // next claim or check looks again.
  void forget();

  static constexpr std::chrono::seconds k_refresh{1};

 private:
  // Bytes free above the reserve, as last seen less what was claimed since.
  std::uint64_t room_locked(bool fresh);
  void require(std::uint64_t bytes, bool count);

  std::filesystem::path dir_;
  std::optional<std::uint64_t> configured_;
  time_source now_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> looked_;
  volume_usage seen_;
  std::uint64_t reserve_ = 0;
  std::uint64_t claimed_ = 0;
};

// A file of a few MiB held in reserve for the database (data/reserve).
class ballast {
 public:
  // `bytes`: nullopt for default_ballast of the volume.
  explicit ballast(std::filesystem::path path, std::optional<std::uint64_t> bytes = std::nullopt);

  // Makes the file when it is missing and the volume keeps at least
  // `keep_free` bytes free besides; a partial file is removed. True when the
  // file is in place afterwards. Never throws.
  bool restore(std::uint64_t keep_free) noexcept;
  // Removes the file, so that its space goes to whoever needs it now. True
  // when it was there (the caller's write may succeed if tried again).
  bool release() noexcept;
  bool in_place() const noexcept;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::optional<std::uint64_t> bytes_;
  mutable std::mutex mutex_;
};

}  // namespace reel::storage
