// What a webhook may be sent to: the URLs an endpoint may have, the
// addresses a sender may connect to, and when a failed delivery is tried
// again. Pure functions, for the domain (validation when a URL is saved)
// and the sender (checks at connect time).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::webhooks {

// An endpoint URL taken apart.
struct target_url {
  bool tls = false;
  std::string host;    // a name, or an IP address without brackets
  std::string port;    // digits; 80 or 443 when the URL has none
  std::string target;  // path and query, at least "/"
};

// The longest URL an endpoint may have.
constexpr std::size_t k_max_url_length = 2048;

// Parses an endpoint URL: http:// or https://, a host, an optional port
// (1..65535), no user name or password, no fragment, no spaces or control
// characters, at most k_max_url_length bytes. Throws std::invalid_argument
// whose message says what is wrong, for a client.
target_url parse_target_url(std::string_view text);

// Why a sender must not connect to `a` without REEL_WEBHOOK_ALLOW_PRIVATE
// ("a loopback address", "the cloud metadata address", ...), or nullopt when
// it is a public address. IPv4-mapped and NAT64 (64:ff9b::/96) IPv6
// addresses are judged by the IPv4 address they carry.
std::optional<std::string> private_address_reason(const boost::asio::ip::address& a);

// REEL_WEBHOOK_RETRY_SCHEDULE_MS: comma-separated delays in milliseconds
// (each 1..604800000, at least one, at most 20), the wait before each retry.
// Throws std::invalid_argument naming what is wrong.
std::vector<std::chrono::milliseconds> parse_retry_schedule(std::string_view text);

// The default: 5 s, 5 min, 30 min, 2 h, 8 h, 24 h.
std::vector<std::chrono::milliseconds> default_retry_schedule();

// The wait before the retry that follows failed attempt number `attempts`
// (1 = the first), with `unit_random` in [0, 1) spreading it by ±20%;
// nullopt when the schedule is exhausted (no retry is left).
std::optional<std::chrono::milliseconds> retry_delay(const std::vector<std::chrono::milliseconds>& schedule,
                                                     std::int64_t attempts, double unit_random);

// What the delivery log keeps of a response body: its first `limit` bytes,
// cut at a character boundary, with invalid UTF-8 and NUL as '?'.
std::string loggable_body(std::string_view body, std::size_t limit = 1024);

}  // namespace reel::webhooks
