#include "realtime/packets.hpp"

#include <boost/json/parse.hpp>

#include <cctype>

namespace reel::realtime {

namespace json = boost::json;

std::string_view next_payload_packet(std::string_view& body) {
  auto sep = body.find(k_record_separator);
  std::string_view packet = body.substr(0, sep);
  body = sep == std::string_view::npos ? std::string_view{} : body.substr(sep + 1);
  return packet;
}

std::optional<eio_packet> parse_eio_packet(std::string_view packet) {
  if (packet.empty()) return std::nullopt;
  std::string_view data = packet.substr(1);
  switch (packet[0]) {
    case '1':
      return eio_packet{eio_packet::kind::close, data};
    case '3':
      return eio_packet{eio_packet::kind::pong, data};
    case '4':
      return eio_packet{eio_packet::kind::message, data};
    case '6':
      return eio_packet{eio_packet::kind::noop, data};
    default:  // '2' from a client is the wrong heartbeat direction in v4
      return std::nullopt;
  }
}

std::optional<sio_packet> parse_sio_packet(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  sio_packet p;
  p.type = payload[0];
  p.rest = payload.substr(1);
  if (!p.rest.empty() && p.rest.front() == '/') {
    auto comma = p.rest.find(',');
    p.nsp = p.rest.substr(0, comma);
    p.rest = comma == std::string_view::npos ? std::string_view{} : p.rest.substr(comma + 1);
  }
  return p;
}

std::optional<connect_auth> parse_connect_auth(std::string_view rest) {
  connect_auth out;
  if (rest.empty()) return out;
  boost::system::error_code ec;
  auto auth = json::parse(rest, ec);
  if (ec || !auth.is_object()) return std::nullopt;
  if (auto* t = auth.as_object().if_contains("token"); t && t->is_string()) out.token = std::string(t->as_string());
  if (auto* o = auth.as_object().if_contains("organizationId"); o && o->is_string())
    out.organization_id = std::string(o->as_string());
  return out;
}

std::optional<event_packet> parse_event(std::string_view rest) {
  std::size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  if (digits > 9) return std::nullopt;
  boost::system::error_code ec;
  auto args = json::parse(rest.substr(digits), ec);
  if (ec || !args.is_array() || args.as_array().empty() || !args.as_array()[0].is_string()) return std::nullopt;
  return event_packet{rest.substr(0, digits), std::move(args.as_array())};
}

}  // namespace reel::realtime
