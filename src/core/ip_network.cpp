#include "core/ip_network.hpp"

#include <charconv>
#include <string>

namespace reel {

namespace ip = boost::asio::ip;

ip::address canonical_address(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

namespace {

// The address's bytes with every bit past `prefix` cleared.
template <class Bytes>
Bytes masked(Bytes bytes, unsigned prefix) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned keep = prefix >= 8 * (i + 1) ? 8 : (prefix > 8 * i ? prefix - 8 * static_cast<unsigned>(i) : 0);
    bytes[i] &= static_cast<unsigned char>(keep == 8 ? 0xff : (0xff << (8 - keep)) & 0xff);
  }
  return bytes;
}

}  // namespace

bool ip_network::contains(const ip::address& raw) const noexcept {
  ip::address a = canonical_address(raw);
  if (a.is_v4() != base.is_v4()) return false;
  if (a.is_v4()) return masked(a.to_v4().to_bytes(), prefix) == base.to_v4().to_bytes();
  return masked(a.to_v6().to_bytes(), prefix) == base.to_v6().to_bytes();
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  auto slash = text.find('/');
  std::string address_text(text.substr(0, slash));
  boost::system::error_code ec;
  ip::address a = ip::make_address(address_text, ec);
  if (ec || address_text.empty() || address_text.find('%') != std::string::npos) return std::nullopt;
  a = canonical_address(a);
  const unsigned width = a.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, pec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || pec != std::errc() || end != digits.data() + digits.size() || prefix > width)
      return std::nullopt;
  }
  ip_network n;
  n.prefix = prefix;
  if (a.is_v4())
    n.base = ip::address_v4(masked(a.to_v4().to_bytes(), prefix));
  else
    n.base = ip::address_v6(masked(a.to_v6().to_bytes(), prefix));
  return n;
}

bool any_contains(std::span<const ip_network> networks, const ip::address& a) noexcept {
  for (const auto& n : networks)
    if (n.contains(a)) return true;
  return false;
}

}  // namespace reel
