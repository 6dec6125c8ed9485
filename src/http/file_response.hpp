// Serving a file with everything RFC 9110 asks of ranged GET/HEAD: strong
// ETag and Last-Modified, If-None-Match/If-Modified-Since (304),
// If-Range, single ranges (206), multiple ranges (multipart/byteranges),
// unsatisfiable ranges (416). The body is streamed by the server with
// sendfile; memory stays flat whatever the file size.
#pragma once

#include "core/offload.hpp"
#include "http/message.hpp"

#include <filesystem>

namespace reel::http {

struct file_options {
  std::string content_type = "application/octet-stream";
  std::string cache_control = "private, max-age=0, must-revalidate";
};

// Opens `path` on the pool and builds the response for ctx's method and
// headers. Throws error(not_found) when the file does not exist.
boost::asio::awaitable<response> serve_file(context& ctx, worker_pool& pool, const std::filesystem::path& path,
                                            file_options options = {});

}  // namespace reel::http
