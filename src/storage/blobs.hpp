// The data directory's file layout, and writing files so that a crash never
// leaves a half-written file under a final name.
//
//   <data>/tmp/<process>/<random>.part           uploads in progress (storage/scratch.hpp)
//   <data>/orgs/<org>/videos/<video>/original    the uploaded file
//   <data>/orgs/<org>/videos/<video>/...         processing outputs
//
// Every path is built from ids the server made; an id that is not
// [A-Za-z0-9_-]{1,64} is refused, so no client text reaches a path.
// All functions block: call them on the thread pool.
#pragma once

#include "storage/scratch.hpp"
#include "storage/space.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reel::storage {

// True for ids the server makes (and nothing that could walk a path).
bool is_valid_id(std::string_view id) noexcept;

// True for a relative path of 1..`max_segments` plain names
// ([A-Za-z0-9._-], none starting with a dot) of at most `max_bytes` in all:
// joined to a folder, it stays inside and names no hidden file.
bool is_plain_relative_path(std::string_view path, int max_segments, std::size_t max_bytes = 200) noexcept;

class layout {
 public:
  // `reserve_bytes`: the free space that uploads and processing outputs
  // leave on the volume (space_guard); nullopt: its default.
  explicit layout(std::filesystem::path data_dir, std::optional<std::uint64_t> reserve_bytes = std::nullopt)
      : root_(std::move(data_dir)), space_(std::make_shared<space_guard>(root_, reserve_bytes)) {}
  const std::filesystem::path& root() const noexcept { return root_; }
  // The floor of free space on this volume: every writer of uploads and
  // outputs claims its bytes here first. Shared by copies of this layout.
  space_guard& space() const noexcept { return *space_; }
  std::filesystem::path tmp_dir() const { return root_ / "tmp"; }
  // Throws std::invalid_argument for an id that is not valid.
  std::filesystem::path video_dir(std::string_view org_id, std::string_view video_id) const;
  std::filesystem::path original(std::string_view org_id, std::string_view video_id) const {
    return video_dir(org_id, video_id) / "original";
  }

  // Creates tmp/ and this process's own scratch directory in it (held
  // while this layout and its copies live), then removes the scratch
  // directories of processes that are gone (storage/scratch.hpp): uploads
  // in progress of live processes sharing the directory stay. Files from
  // before scratch directories go once untouched for `untouched_for`.
  scratch_sweep prepare(std::chrono::seconds untouched_for);
  // The same removal, later (the reconciliation sweep); keeps this process's own.
  scratch_sweep remove_abandoned_scratch(std::chrono::seconds untouched_for) const;
  // Where this process writes files in progress: its scratch directory
  // once prepare() ran, else tmp/.
  std::filesystem::path scratch() const { return scratch_ ? scratch_->path() : tmp_dir(); }

 private:
  std::filesystem::path root_;
  std::shared_ptr<space_guard> space_;
  std::shared_ptr<scratch_dir> scratch_;
};

// A file being written under a temporary name in the layout's scratch(). Removed on
// destruction unless committed. Not thread-safe; may move between threads.
class temp_file {
 public:
  explicit temp_file(const layout& l);
  ~temp_file();
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  // Appends bytes. Throws std::system_error (ENOSPC or EDQUOT when the
  // volume is full; the bytes before it were written and count in size()).
  void write(std::string_view bytes);
  std::uint64_t size() const noexcept { return size_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // fsyncs the file, renames it to `final_path` (creating its directory),
  // and fsyncs the directory: after this returns, the file survives a crash.
  void commit(const std::filesystem::path& final_path);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

// The file of a resumable upload, written in place under its final name at
// the offsets the client sends, and made durable on demand. Bytes past the
// last acknowledged offset are cut off before each write session, so after
// a crash the file holds exactly what was acknowledged, then the rest comes.
// Every function throws std::system_error with the errno (ENOSPC or EDQUOT
// when the volume is full: errc_of says insufficient_storage).
// Not thread-safe; may move between threads.
class upload_file {
 public:
  // Opens an existing upload file. Throws std::system_error (ENOENT when
  // the upload's directory is gone, e.g. its video was deleted).
  explicit upload_file(const std::filesystem::path& path);
  // Creates the file empty, with its directory, durably.
  static void create(const std::filesystem::path& path);
  ~upload_file();
  upload_file(const upload_file&) = delete;
  upload_file& operator=(const upload_file&) = delete;

  void truncate(std::uint64_t size);
  void write_at(std::uint64_t offset, std::string_view bytes);
  // The file's size now: where the bytes that reached it end.
  std::uint64_t size() const;
  // fsync: everything written so far survives a crash.
  void sync();

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Writes `bytes` to `path` atomically (temp, fsync, rename, fsync dir).
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Removes a directory tree; returns false (and keeps going) on errors.
bool remove_tree(const std::filesystem::path& p) noexcept;

// The bytes of a video's processing outputs in its directory `video_dir`:
// every regular file under it but the original, the work directories of
// jobs (work-*) and the thumbnail cache (thumbs/, bounded server-wide and
// not the organization's). 0 when the directory is gone. Blocking.
std::uint64_t outputs_size(const std::filesystem::path& video_dir) noexcept;

// The whole content of the regular file `path`, or nullopt when there is
// none; error(internal) when it is longer than `max_bytes`. Blocking.
std::optional<std::string> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace reel::storage
