// Who is on the other end of a request. Directly connected clients are the
// TCP peer. Behind load balancers or reverse proxies listed in
// REEL_TRUSTED_PROXIES, the client is the right-most X-Forwarded-For entry
// that is not itself a trusted proxy: entries to its left were written by the
// client and prove nothing. One helper for every per-client decision (login
// throttling, realtime session limits and binding).
#pragma once

#include "core/ip_network.hpp"
#include "http/message.hpp"

#include <span>
#include <string>
#include <string_view>

namespace reel::http {

// The client address for a request from `peer` carrying `forwarded_for`
// (the X-Forwarded-For values in order, comma-joined; may be empty), as text
// (IPv4-mapped IPv6 as IPv4). When `peer` is not trusted, or nothing usable
// was forwarded, it is `peer`. An entry that is not an IP address (or
// "ip:port") stops the walk: the last trusted hop is the client then.
std::string client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                           std::span<const ip_network> trusted_proxies);

// The same for a request's context (every X-Forwarded-For header, in order).
std::string client_address(const context& ctx, std::span<const ip_network> trusted_proxies);

}  // namespace reel::http
