// IP networks in CIDR notation ("10.0.0.0/8", "2001:db8::/32", or a bare
// address meaning just itself), for settings such as REEL_TRUSTED_PROXIES.
// IPv4-mapped IPv6 addresses (::ffff:10.1.2.3) count as their IPv4 address.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace reel {

struct ip_network {
  boost::asio::ip::address base;  // host bits cleared
  unsigned prefix = 0;            // 0..32 (IPv4) or 0..128 (IPv6)

  bool contains(const boost::asio::ip::address& a) const noexcept;
  bool operator==(const ip_network&) const = default;
};

// "a.b.c.d", "a.b.c.d/n", "v6", "v6/n"; nullopt for anything else (host
// names, a prefix out of range, spaces).
std::optional<ip_network> parse_ip_network(std::string_view text);

// An address as text in its usual form; IPv4-mapped IPv6 as IPv4.
boost::asio::ip::address canonical_address(const boost::asio::ip::address& a);

// True when some network of `networks` contains `a`.
bool any_contains(std::span<const ip_network> networks, const boost::asio::ip::address& a) noexcept;

}  // namespace reel
