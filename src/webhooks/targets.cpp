#include "webhooks/targets.hpp"

#include "core/ip_network.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

namespace reel::webhooks {

namespace ip = boost::asio::ip;

namespace {

struct named_network {
  const char* cidr;
  const char* reason;
};

// The ranges a webhook may not reach unless private targets are allowed.
// The metadata address comes before link-local, which contains it.
constexpr std::array<named_network, 18> k_refused = {{
    {"169.254.169.254/32", "the cloud metadata address"},
    {"0.0.0.0/8", "an unspecified (\"this network\") address"},
    {"127.0.0.0/8", "a loopback address"},
    {"10.0.0.0/8", "a private address"},
    {"172.16.0.0/12", "a private address"},
    {"192.168.0.0/16", "a private address"},
    {"169.254.0.0/16", "a link-local address"},
    {"100.64.0.0/10", "a carrier-grade NAT (shared) address"},
    {"192.0.0.0/24", "a reserved (IETF protocol) address"},
    {"198.18.0.0/15", "a reserved (benchmarking) address"},
    {"224.0.0.0/4", "a multicast address"},
    {"240.0.0.0/4", "a reserved or broadcast address"},
    {"::/128", "an unspecified address"},
    {"::1/128", "a loopback address"},
    {"fc00::/7", "a private (unique local) address"},
    {"fe80::/10", "a link-local address"},
    {"fec0::/10", "a private (site-local) address"},
    {"ff00::/8", "a multicast address"},
}};

const std::vector<std::pair<ip_network, const char*>>& refused_networks() {
  static const std::vector<std::pair<ip_network, const char*>> all = [] {
    std::vector<std::pair<ip_network, const char*>> out;
    for (const auto& n : k_refused) out.emplace_back(*parse_ip_network(n.cidr), n.reason);
    return out;
  }();
  return all;
}

// The length of the UTF-8 sequence that starts at `s[i]` when it is valid, else 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return c == 0 ? 0 : 1;
  std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || c > 0xf4 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))
    return 0;
  return n;
}

bool has_unsafe_byte(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

void parse_port(std::string_view digits, target_url& u) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535)
    throw std::invalid_argument("The URL's port must be a number from 1 to 65535.");
  u.port = std::to_string(port);
}

// "host", "host:port", "[v6]", "[v6]:port" into u.host and u.port.
void parse_authority(std::string_view authority, target_url& u) {
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("The URL must not contain a user name or password.");
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("The URL's IPv6 address has no closing ].");
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) throw std::invalid_argument("The URL's host is malformed.");
    if (!rest.empty()) port = rest.substr(1);
    boost::system::error_code ec;
    ip::make_address_v6(std::string(host), ec);
    if (ec) throw std::invalid_argument("The URL's IPv6 address is malformed.");
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) throw std::invalid_argument("The URL's port must be a number from 1 to 65535.");
  }
  if (host.empty() || host.size() > 253) throw std::invalid_argument("The URL has no usable host.");
  u.host = std::string(host);
  if (!port.empty() || authority.ends_with(':'))
    parse_port(port, u);
  else
    u.port = u.tls ? "443" : "80";
}

}  // namespace

target_url parse_target_url(std::string_view text) {
  if (text.size() > k_max_url_length)
    throw std::invalid_argument("The URL is longer than " + std::to_string(k_max_url_length) + " characters.");
  if (has_unsafe_byte(text)) throw std::invalid_argument("The URL must not contain spaces or control characters.");
  target_url u;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return out;
  };
  auto scheme_end = text.find("://");
  std::string scheme = scheme_end == std::string_view::npos ? "" : lower(text.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    throw std::invalid_argument("The URL must start with http:// or https://.");
  u.tls = scheme == "https";
  text.remove_prefix(scheme_end + 3);
  if (text.find('#') != std::string_view::npos) throw std::invalid_argument("The URL must not have a #fragment.");
  auto path = text.find_first_of("/?");
  parse_authority(text.substr(0, path), u);
  u.target = path == std::string_view::npos ? "/" : std::string(text.substr(path));
  if (u.target.starts_with('?')) u.target.insert(0, "/");
  return u;
}

std::optional<std::string> private_address_reason(const ip::address& raw) {
  ip::address a = canonical_address(raw);
  if (a.is_v6()) {
    auto bytes = a.to_v6().to_bytes();
    static const ip_network nat64 = *parse_ip_network("64:ff9b::/96");
    if (nat64.contains(a)) a = ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]});
  }
  for (const auto& [network, reason] : refused_networks())
    if (network.contains(a)) return std::string(reason);
  return std::nullopt;
}

std::vector<std::chrono::milliseconds> parse_retry_schedule(std::string_view text) {
  std::vector<std::chrono::milliseconds> out;
  constexpr std::uint64_t k_max = 7ULL * 24 * 3600 * 1000;
  std::size_t start = 0;
  while (true) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::uint64_t ms = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), ms);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size() || ms < 1 || ms > k_max)
      throw std::invalid_argument("each delay must be a whole number of milliseconds from 1 to 604800000, got \"" +
                                  std::string(item) + "\"");
    out.emplace_back(static_cast<std::int64_t>(ms));
    if (out.size() > 20) throw std::invalid_argument("at most 20 delays");
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::chrono::milliseconds> default_retry_schedule() {
  using std::chrono::milliseconds;
  return {milliseconds(5'000),     milliseconds(300'000),    milliseconds(1'800'000),
          milliseconds(7'200'000), milliseconds(28'800'000), milliseconds(86'400'000)};
}

std::optional<std::chrono::milliseconds> retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                                     std::int64_t attempts, double unit_random) {
  if (attempts < 1 || attempts > static_cast<std::int64_t>(schedule.size())) return std::nullopt;
  double base = static_cast<double>(schedule[static_cast<std::size_t>(attempts - 1)].count());
  double spread = 0.8 + 0.4 * unit_random;
  return std::chrono::milliseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(base * spread)));
}

std::string loggable_body(std::string_view body, std::size_t limit) {
  std::string out;
  std::size_t i = 0;
  while (i < body.size()) {
    std::size_t n = utf8_sequence(body, i);
    std::size_t take = n == 0 ? 1 : n;
    if (out.size() + (n == 0 ? 1 : n) > limit) break;
    if (n == 0)
      out += '?';
    else
      out.append(body.substr(i, n));
    i += take;
  }
  return out;
}

}  // namespace reel::webhooks
