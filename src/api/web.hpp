// The browser UI: static files from the web directory (web/ in the source
// tree). `/` is web/index.html; `/static/<path>` is web/static/<path>
// (the app's scripts and styles, and vendor/ with the npm libraries the deps
// script copies there).
#pragma once

#include "core/offload.hpp"
#include "http/router.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace reel::api {

void add_web_routes(http::router& r, worker_pool& pool, std::filesystem::path web_dir);

// The MIME type for a static file path of at most 8 plain segments
// ([A-Za-z0-9._-], no "." or ".." or hidden names), or nullopt when the path
// is not one reel serves.
std::optional<std::string> static_file_type(std::string_view path);

// Where the web files are when REEL_WEB_DIR is not set: `web` beside the
// directory of the executable (build/reel → web/), else ./web.
std::filesystem::path default_web_dir();

}  // namespace reel::api
