// Engine.IO v4 payloads and packets (src/realtime/packets.hpp) as a polling
// POST body delivers them. Invariants: the packets of a payload joined by
// the record separator are the payload; a packet's type and data written
// back are the packet; the Socket.IO packet inside a message, written back,
// splits the same way.
#include "fuzz.hpp"
#include "realtime/packets.hpp"

#include <string>
#include <vector>

namespace rt = reel::realtime;

namespace {

char type_byte(rt::eio_packet::kind k) {
  switch (k) {
    case rt::eio_packet::kind::close:
      return '1';
    case rt::eio_packet::kind::pong:
      return '3';
    case rt::eio_packet::kind::message:
      return '4';
    case rt::eio_packet::kind::noop:
      return '6';
  }
  return '?';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> packets;
  std::string_view body = payload;
  // As receive_polling does: at least one packet, even from an empty body.
  do {
    packets.push_back(rt::next_payload_packet(body));
  } while (!body.empty());

  std::string joined;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i) joined += rt::k_record_separator;
    joined += packets[i];
    FUZZ_CHECK(packets[i].find(rt::k_record_separator) == std::string_view::npos);
  }
  // A payload ending in a separator loses only that separator.
  FUZZ_CHECK(joined == payload || joined + rt::k_record_separator == payload);

  for (auto packet : packets) {
    auto p = rt::parse_eio_packet(packet);
    if (!p) {
      FUZZ_CHECK(packet.empty() || std::string_view("1346").find(packet[0]) == std::string_view::npos);
      continue;
    }
    FUZZ_CHECK(type_byte(p->type) + std::string(p->data) == packet);
    if (p->type != rt::eio_packet::kind::message) continue;
    auto sio = rt::parse_sio_packet(p->data);
    FUZZ_CHECK(sio.has_value() == !p->data.empty());
    if (!sio) continue;
    FUZZ_CHECK(!sio->nsp.empty() && sio->nsp.front() == '/');
    FUZZ_CHECK(sio->nsp.find(',') == std::string_view::npos);
  }
  return 0;
}
