// Serving a file with everything RFC 9110 asks of ranged GET/HEAD: strong
// ETag and Last-Modified, If-None-Match/If-Modified-Since (304),
// If-Range, single ranges (206), multiple ranges (multipart/byteranges),
// unsatisfiable ranges (416). The body is streamed by the server with
// sendfile; memory stays flat whatever the file size.
#pragma once

#include "core/clock.hpp"
#include "core/offload.hpp"
#include "http/message.hpp"

#include <filesystem>

namespace reel::http {

struct file_options {
  std::string content_type = "application/octet-stream";
  std::string cache_control = "private, max-age=0, must-revalidate";
};

// An open regular file and its validators.
struct file_info {
  std::shared_ptr<const open_file> file;
  std::uint64_t size = 0;
  sys_time modified;
  std::string etag;  // strong: inode, size and mtime
};

// Opens `path` for reading. Blocking (run it on the pool); nullopt when it
// does not exist or is not a regular file. Throws error(unavailable) with
// Retry-After k_unreadable_retry when it cannot be opened for any other
// reason (EMFILE, ENFILE, EIO, ...): only a missing file is a 404.
std::optional<file_info> open_file_info(const std::filesystem::path& path);

// True for the errnos of open(2) that mean the file is not there (ENOENT,
// ENOTDIR); every other one is a failure to report as such.
bool means_absent(int open_errno) noexcept;

inline constexpr std::chrono::seconds k_unreadable_retry{2};

// True when an If-None-Match header value matches `etag` (a quoted strong
// tag): weak comparison over the list, `*` matches anything.
bool none_match(std::string_view header, const std::string& etag);

// The response to ctx's method and headers for `f`. Loop thread; no I/O.
response file_response(const context& ctx, const file_info& f, const file_options& options = {});

// open_file_info on the pool, then file_response. Throws error(not_found)
// when the file does not exist, error(unavailable) as open_file_info.
boost::asio::awaitable<response> serve_file(context& ctx, worker_pool& pool, const std::filesystem::path& path,
                                            file_options options = {});

}  // namespace reel::http
