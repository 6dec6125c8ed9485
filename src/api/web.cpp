#include "api/web.hpp"

#include "http/file_response.hpp"
#include "storage/blobs.hpp"

#include <array>
#include <utility>

namespace reel::api {

namespace asio = boost::asio;
using http::context;
using http::response;

std::optional<std::string> static_file_type(std::string_view path) {
  if (!storage::is_plain_relative_path(path, 8)) return std::nullopt;
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 13> types{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  }};
  for (const auto& [ext, type] : types)
    if (path.ends_with(ext)) return std::string(type);
  return std::nullopt;
}

std::filesystem::path default_web_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = exe.parent_path().parent_path() / "web";
    if (std::filesystem::is_regular_file(beside / "index.html", ec)) return beside;
  }
  return "web";
}

namespace {

// Files are revalidated on every load (ETag → 304): a new release is picked
// up at once, and an unchanged file costs no body.
asio::awaitable<response> serve_static(context& ctx, worker_pool& pool, std::filesystem::path path, std::string type) {
  http::file_options options;
  options.content_type = std::move(type);
  options.cache_control = "no-cache";
  co_return co_await http::serve_file(ctx, pool, path, options);
}

}  // namespace

void add_web_routes(http::router& r, worker_pool& pool, std::filesystem::path web_dir) {
  r.add(http::verb::get, "/", [&pool, web_dir](context& ctx) -> asio::awaitable<response> {
    std::filesystem::path path = web_dir / "index.html";
    std::string type = "text/html; charset=utf-8";
    co_return co_await serve_static(ctx, pool, path, type);
  });
  r.add(http::verb::get, "/static/*", [&pool, web_dir](context& ctx) -> asio::awaitable<response> {
    const std::string& rest = ctx.params.at("*");
    auto type = static_file_type(rest);
    if (!type) throw error(errc::not_found, "No such file.");
    std::filesystem::path path = web_dir / "static" / rest;
    co_return co_await serve_static(ctx, pool, path, *type);
  });
}

}  // namespace reel::api
