// A webhook endpoint's URL (src/webhooks/targets.hpp parse_target_url, an
// admin's input) and the address check the sender makes on what it
// resolves. Invariants: an accepted URL is http or https with a host of
// 1..253 bytes with no space, control character, '@' or '#', a port of
// 1..65535 written canonically, and a target that starts with '/' and has
// no '#'; written back as scheme://host:port/target it parses to itself;
// rejections are std::invalid_argument only. A host that is an IP address
// gets an answer from private_address_reason, and the same answer for its
// IPv4-mapped form.
#include "fuzz.hpp"
#include "webhooks/targets.hpp"

#include <stdexcept>
#include <string>

namespace ip = boost::asio::ip;
using reel::webhooks::parse_target_url;
using reel::webhooks::target_url;

namespace {

std::string written(const target_url& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  return std::string(u.tls ? "https" : "http") + "://" + host + ":" + u.port + u.target;
}

void check_address(const std::string& host) {
  boost::system::error_code ec;
  auto a = ip::make_address(host, ec);
  if (ec) return;
  auto why = reel::webhooks::private_address_reason(a);
  if (a.is_v4()) {
    auto mapped = ip::make_address_v6(ip::v4_mapped, a.to_v4());
    FUZZ_CHECK(reel::webhooks::private_address_reason(mapped) == why);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  std::string text(in.rest());
  target_url u;
  try {
    u = parse_target_url(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  FUZZ_CHECK(text.size() <= reel::webhooks::k_max_url_length);
  FUZZ_CHECK(!u.host.empty() && u.host.size() <= 253);
  for (char c : u.host) FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f && c != '@' && c != '#');
  FUZZ_CHECK(!u.port.empty() && u.port.size() <= 5 && u.port.front() != '0');
  FUZZ_CHECK(std::stoul(u.port) >= 1 && std::stoul(u.port) <= 65535);
  FUZZ_CHECK(u.target.starts_with('/') && u.target.find('#') == std::string::npos);
  auto again = parse_target_url(written(u));
  FUZZ_CHECK(again.tls == u.tls && again.host == u.host && again.port == u.port && again.target == u.target);
  check_address(u.host);
  return 0;
}
