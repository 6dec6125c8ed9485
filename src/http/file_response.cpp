#include "http/file_response.hpp"

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/range.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace reel::http {

namespace asio = boost::asio;

namespace {

// A file that is there but cannot be read now (out of descriptors, an I/O
// error): 503 with Retry-After, never 404; the errno goes to the log.
[[noreturn]] void throw_unreadable(const std::filesystem::path& path, int err) {
  log::warn("a file cannot be opened", {{"path", path.string()}, {"error", std::strerror(err)}});
  throw error(errc::unavailable, "The file cannot be read right now; try again shortly.", k_unreadable_retry);
}

}  // namespace

bool means_absent(int open_errno) noexcept { return open_errno == ENOENT || open_errno == ENOTDIR; }

std::optional<file_info> open_file_info(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (means_absent(err)) return std::nullopt;
    throw_unreadable(path, err);
  }
  auto file = std::make_shared<const open_file>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_unreadable(path, errno);
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  file_info o;
  o.file = std::move(file);
  o.size = static_cast<std::uint64_t>(st.st_size);
  o.modified = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
  // Strong validator: changes whenever the file is replaced or rewritten.
  char buf[96];
  std::snprintf(buf, sizeof buf, "\"%lx-%lx-%lx%09lx\"", static_cast<unsigned long>(st.st_ino),
                static_cast<unsigned long>(st.st_size), static_cast<unsigned long>(st.st_mtim.tv_sec),
                static_cast<unsigned long>(st.st_mtim.tv_nsec));
  o.etag = buf;
  return o;
}

bool none_match(std::string_view header, const std::string& etag) {
  std::string_view strong = std::string_view(etag);
  while (!header.empty()) {
    auto comma = header.find(',');
    std::string_view tag = trim_ows(header.substr(0, comma));
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == strong) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

namespace {

// If-Range: a strong ETag that matches exactly, or a date equal to Last-Modified.
bool if_range_allows(std::string_view value, const std::string& etag, sys_time modified) {
  if (value.empty()) return true;
  if (value.starts_with("W/")) return false;
  if (value.starts_with("\"")) return value == etag;
  auto date = from_http_date(value);
  return date && *date == modified;
}

}  // namespace

asio::awaitable<response> serve_file(context& ctx, worker_pool& pool, const std::filesystem::path& path,
                                     file_options options) {
  auto open_job = [&path] { return open_file_info(path); };
  auto info = co_await pool.offload(open_job);
  if (!info) throw error(errc::not_found, "No such resource.");
  co_return file_response(ctx, *info, options);
}

response file_response(const context& ctx, const file_info& o, const file_options& options) {
  response res{status::ok, 11};
  res.set(field::accept_ranges, "bytes");
  res.set(field::etag, o.etag);
  res.set(field::last_modified, to_http_date(o.modified));
  res.set(field::cache_control, options.cache_control);

  // Preconditions first: a matching If-None-Match (or, without it, an
  // If-Modified-Since not older than the file) wins over any Range.
  bool get_or_head = ctx.req.method() == verb::get || ctx.req.method() == verb::head;
  std::string_view inm = ctx.header(field::if_none_match);
  bool not_modified = false;
  if (!inm.empty()) {
    not_modified = none_match(inm, o.etag);
  } else if (auto ims = from_http_date(ctx.header(field::if_modified_since)); ims && get_or_head) {
    not_modified = o.modified <= *ims;
  }
  if (not_modified && get_or_head) {
    res.result(status::not_modified);  // no body, no Content-Length
    return res;
  }

  range_request ranges;
  std::string_view range_header = ctx.header(field::range);
  if (ctx.req.method() == verb::get && !range_header.empty() &&
      if_range_allows(ctx.header(field::if_range), o.etag, o.modified))
    ranges = parse_range(range_header, o.size);

  file_payload payload;
  payload.file = o.file;
  switch (ranges.outcome) {
    case range_request::kind::ignore:
      res.set(field::content_type, options.content_type);
      res.content_length(o.size);
      if (o.size > 0) payload.parts.push_back({"", 0, o.size});
      break;
    case range_request::kind::unsatisfiable: {
      response err = error_response(errc::range_not_satisfiable,
                                    "The requested range is outside the file (" + std::to_string(o.size) + " bytes).");
      err.set(field::content_range, "bytes */" + std::to_string(o.size));
      err.set(field::accept_ranges, "bytes");
      err.set(field::etag, o.etag);
      return err;
    }
    case range_request::kind::satisfiable:
      res.result(status::partial_content);
      if (ranges.ranges.size() == 1) {
        const auto& r = ranges.ranges.front();
        res.set(field::content_type, options.content_type);
        res.set(field::content_range,
                "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" + std::to_string(o.size));
        res.content_length(r.length());
        payload.parts.push_back({"", r.first, r.length()});
      } else {
        std::string boundary = "reel-" + ids::fast_id();
        res.set(field::content_type, "multipart/byteranges; boundary=" + boundary);
        std::uint64_t total = 0;
        for (const auto& r : ranges.ranges) {
          std::string head = "\r\n--" + boundary + "\r\nContent-Type: " + options.content_type +
                             "\r\nContent-Range: bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                             "/" + std::to_string(o.size) + "\r\n\r\n";
          total += head.size() + r.length();
          payload.parts.push_back({std::move(head), r.first, r.length()});
        }
        payload.tail = "\r\n--" + boundary + "--\r\n";
        total += payload.tail.size();
        res.content_length(total);
      }
      break;
  }
  if (!payload.parts.empty() || !payload.tail.empty()) res.file = std::move(payload);
  return res;
}

}  // namespace reel::http
