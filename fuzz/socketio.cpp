// Socket.IO v5 packets (src/realtime/packets.hpp): the split into type,
// namespace and rest, a CONNECT's auth object, an EVENT's ack id and
// arguments. Invariants: each written back the way socket.io-parser encodes
// it parses to the same values.
#include "fuzz.hpp"
#include "realtime/packets.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

namespace rt = reel::realtime;
namespace json = boost::json;

namespace {

// socket.io-parser's encoding: the namespace only when it is not "/", then
// a comma (also when the rest would otherwise read as a namespace).
std::string encode(char type, std::string_view nsp, std::string_view rest) {
  std::string out(1, type);
  if (nsp != "/" || (!rest.empty() && rest.front() == '/')) {
    out += nsp;
    out += ',';
  }
  out += rest;
  return out;
}

void check_connect(std::string_view rest) {
  auto auth = rt::parse_connect_auth(rest);
  if (!auth) {
    FUZZ_CHECK(!rest.empty());
    return;
  }
  json::object o;
  if (auth->token) o["token"] = *auth->token;
  if (!auth->organization_id.empty()) o["organizationId"] = auth->organization_id;
  auto again = rt::parse_connect_auth(json::serialize(o));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->token == auth->token);
  FUZZ_CHECK(again->organization_id == auth->organization_id);
}

// Boost.JSON reads a number past the double range (6e57145) as infinity and
// writes it as "Infinity", which is not JSON: such arguments are not
// written back (the server never echoes arguments).
bool finite(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  if (v.is_array())
    return std::all_of(v.get_array().begin(), v.get_array().end(), [](const json::value& e) { return finite(e); });
  if (v.is_object())
    return std::all_of(v.get_object().begin(), v.get_object().end(), [](const auto& e) { return finite(e.value()); });
  return true;
}

// Equal, but for doubles within a rounding error: Boost.JSON 1.81 does not
// always read a number back to the very double it wrote (17e30).
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() && b.is_double())
    return std::fabs(a.get_double() - b.get_double()) <= 1e-12 * std::fabs(a.get_double());
  if (a.is_array() && b.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object() && b.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& e : x) {
      const json::value* other = y.if_contains(e.key());
      if (!other || !same(e.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void check_event(std::string_view nsp, std::string_view rest) {
  auto event = rt::parse_event(rest);
  if (!event) return;
  FUZZ_CHECK(event->ack.size() <= 9);
  for (char c : event->ack) FUZZ_CHECK(std::isdigit(static_cast<unsigned char>(c)));
  FUZZ_CHECK(!event->args.empty() && event->args[0].is_string());
  if (!finite(event->args)) return;
  const std::string packet = encode('2', nsp, std::string(event->ack) + json::serialize(event->args));
  auto sio = rt::parse_sio_packet(packet);
  FUZZ_CHECK(sio && sio->nsp == nsp);
  auto again = rt::parse_event(sio->rest);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->ack == event->ack);
  FUZZ_CHECK(same(again->args, event->args));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto p = rt::parse_sio_packet(payload);
  FUZZ_CHECK(p.has_value() == !payload.empty());
  if (!p) return 0;
  FUZZ_CHECK(p->type == payload[0]);
  FUZZ_CHECK(!p->nsp.empty() && p->nsp.front() == '/' && p->nsp.find(',') == std::string_view::npos);
  if (payload.size() > 1 && payload[1] == '/')
    FUZZ_CHECK(payload.substr(1).starts_with(p->nsp) && payload.ends_with(p->rest));
  else
    FUZZ_CHECK(p->nsp == "/" && p->rest == payload.substr(1));

  const std::string encoded = encode(p->type, p->nsp, p->rest);
  auto again = rt::parse_sio_packet(encoded);
  FUZZ_CHECK(again && again->type == p->type && again->nsp == p->nsp && again->rest == p->rest);

  // What the server does with each type (realtime/socketio.cpp on_message).
  if (p->type == '0') check_connect(p->rest);
  if (p->type == '2') check_event(p->nsp, p->rest);
  return 0;
}
