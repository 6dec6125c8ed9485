// The wire formats of Engine.IO v4 and Socket.IO v5 (docs/PROTOCOLS.md A
// and B) as pure functions over the bytes a client sent: what the server
// (realtime/socketio.cpp) reads from a polling POST or a WebSocket frame.
// No I/O, no state; any thread.
#pragma once

#include <boost/json/array.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace reel::realtime {

// A polling POST body holds packets separated by the record separator.
inline constexpr char k_record_separator = '\x1e';

// The first packet of a polling payload; `body` keeps what follows it (empty
// after the last packet).
std::string_view next_payload_packet(std::string_view& body);

// An Engine.IO packet a client may send: its type and the data after the type byte.
struct eio_packet {
  enum class kind { close, pong, message, noop };
  kind type;
  std::string_view data;
};
// nullopt for an empty packet or a type a client never sends (open, ping,
// upgrade outside a probe, anything else): a protocol error.
std::optional<eio_packet> parse_eio_packet(std::string_view packet);

// A Socket.IO packet (the payload of an Engine.IO message), split but not
// interpreted: the type byte as sent, the namespace ("/" when absent), and
// what follows the namespace's comma (ack id and JSON data).
struct sio_packet {
  char type = 0;
  std::string_view nsp = "/";
  std::string_view rest;
};
// nullopt for an empty payload.
std::optional<sio_packet> parse_sio_packet(std::string_view payload);

// A CONNECT's auth object: the strings it names (empty when absent or not
// strings). nullopt when `rest` is not empty and not a JSON object.
struct connect_auth {
  std::optional<std::string> token;
  std::string organization_id;
};
std::optional<connect_auth> parse_connect_auth(std::string_view rest);

// An EVENT: the ack id it asks for (digits, empty for none) and its
// arguments, a non-empty JSON array whose first element (the event name) is
// a string. nullopt when malformed or the ack id is longer than 9 digits.
struct event_packet {
  std::string_view ack;
  boost::json::array args;
};
std::optional<event_packet> parse_event(std::string_view rest);

}  // namespace reel::realtime
