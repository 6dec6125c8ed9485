// The tus 1.0.0 request headers (docs/PROTOCOLS.md §C) parsed into typed
// values: pure functions over the header text, shared by the upload routes
// (api/uploads.cpp) and the fuzz targets. Any thread.
#pragma once

#include "http/middleware.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reel::api {

// The protocol version this server speaks (Tus-Resumable, Tus-Version).
inline constexpr std::string_view k_tus_version = "1.0.0";

// Adds `Tus-Resumable` to every response of the /api/uploads routes (errors
// included) and `Tus-Version` to 412s. Goes before error_handler().
http::middleware tus_headers();

// A non-negative decimal header (Upload-Length, Upload-Offset) of at most
// 15 digits; nullopt when `text` is empty (the header is absent).
// error(bad_request) naming `name` for anything else.
std::optional<std::uint64_t> parse_upload_number(std::string_view text, std::string_view name);

// The raw 20-byte SHA-1 digest an Upload-Checksum header ("sha1 <base64>")
// announces; nullopt when `text` is empty. error(bad_request) for another
// algorithm or a digest that is not base64 of 20 bytes.
std::optional<std::string> parse_upload_checksum(std::string_view text);

// Parses an Upload-Metadata header (`key base64,key2 base64,key3`): keys
// unique, non-empty, without spaces or commas; values strict base64.
// nullopt when malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(std::string_view header);

}  // namespace reel::api
