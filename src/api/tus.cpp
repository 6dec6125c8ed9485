#include "api/tus.hpp"

#include "core/digest.hpp"
#include "core/errors.hpp"

#include <algorithm>

namespace asio = boost::asio;

namespace reel::api {

std::optional<std::uint64_t> parse_upload_number(std::string_view text, std::string_view name) {
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  if (text.size() > 15 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw error(errc::bad_request, "The header " + std::string(name) + " must be a number of bytes.");
  for (char c : text) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

std::optional<std::string> parse_upload_checksum(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    throw error(errc::bad_request, "Upload-Checksum must be \"<algorithm> <base64 digest>\".");
  std::string algorithm(text.substr(0, space));
  std::transform(algorithm.begin(), algorithm.end(), algorithm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (algorithm != "sha1")
    throw error(errc::bad_request, "The checksum algorithm is not supported; this server supports sha1.");
  auto digest = base64_decode(text.substr(space + 1));
  if (!digest || digest->size() != 20)
    throw error(errc::bad_request, "Upload-Checksum's digest is not a base64 SHA-1 digest.");
  return digest;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  if (header.empty()) return out;
  std::size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    std::string_view item =
        header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto space = item.find(' ');
    std::string_view key = item.substr(0, space);
    std::string_view value = space == std::string_view::npos ? std::string_view() : item.substr(space + 1);
    if (key.empty() || value.find(' ') != std::string_view::npos) return std::nullopt;
    for (const auto& [k, v] : out)
      if (k == key) return std::nullopt;
    auto decoded = base64_decode(value);
    if (!decoded) return std::nullopt;
    out.emplace_back(std::string(key), std::move(*decoded));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

http::middleware tus_headers() {
  return [](http::context& ctx, const http::handler& next) -> asio::awaitable<http::response> {
    http::response res = co_await next(ctx);
    if (ctx.route.starts_with("/api/uploads")) {
      res.set("Tus-Resumable", k_tus_version);
      if (res.result() == http::status::precondition_failed) res.set("Tus-Version", k_tus_version);
    }
    co_return res;
  };
}

}  // namespace reel::api
