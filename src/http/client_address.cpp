#include "http/client_address.hpp"

#include "core/strings.hpp"
namespace reel::http {

namespace ip = boost::asio::ip;

namespace {

// One X-Forwarded-For entry: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1" or
// "[2001:db8::1]:5678".
std::optional<ip::address> parse_entry(std::string_view entry) {
  entry = trim_ows(entry);
  if (entry.starts_with('[')) {
    auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    entry = entry.substr(1, close - 1);
  } else if (auto colon = entry.find(':');
             colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    entry = entry.substr(0, colon);  // IPv4 with a port
  }
  if (entry.empty() || entry.size() > 45) return std::nullopt;
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(entry), ec);
  if (ec || (a.is_v6() && a.to_v6().scope_id() != 0)) return std::nullopt;
  return canonical_address(a);
}

}  // namespace

std::string client_address(const ip::address& peer, std::string_view forwarded_for,
                           std::span<const ip_network> trusted_proxies) {
  ip::address client = canonical_address(peer);
  if (!any_contains(trusted_proxies, client)) return client.to_string();
  // Right to left: each entry was written by the hop to its right, which is trusted so far.
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view entry = comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1);
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    if (trim_ows(entry).empty()) continue;
    auto a = parse_entry(entry);
    if (!a) break;
    client = *a;
    if (!any_contains(trusted_proxies, client)) break;
  }
  return client.to_string();
}

std::string client_address(const context& ctx, std::span<const ip_network> trusted_proxies) {
  std::string forwarded;
  if (!trusted_proxies.empty()) {
    for (auto [it, end] = ctx.req.equal_range("X-Forwarded-For"); it != end; ++it) {
      if (!forwarded.empty()) forwarded += ',';
      forwarded += it->value();
    }
  }
  return client_address(ctx.remote.address(), forwarded, trusted_proxies);
}

}  // namespace reel::http
