// Socket.IO v5 packets (src/realtime/packets.hpp): the split into type,
// namespace and rest, a CONNECT's auth object, an EVENT's ack id and
// arguments. Invariants: each written back the way socket.io-parser encodes
// it parses to the same values.
#include "fuzz.hpp"
#include "realtime/packets.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>
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

void check_event(std::string_view nsp, std::string_view rest) {
  auto event = rt::parse_event(rest);
  if (!event) return;
  FUZZ_CHECK(event->ack.size() <= 9);
  for (char c : event->ack) FUZZ_CHECK(std::isdigit(static_cast<unsigned char>(c)));
  FUZZ_CHECK(!event->args.empty() && event->args[0].is_string());
  const std::string packet = encode('2', nsp, std::string(event->ack) + json::serialize(event->args));
  auto sio = rt::parse_sio_packet(packet);
  FUZZ_CHECK(sio && sio->nsp == nsp);
  auto again = rt::parse_event(sio->rest);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->ack == event->ack);
  FUZZ_CHECK(again->args == event->args);
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
