#include "realtime/websocket_connection.hpp"

#include "support/common.hpp"

#include <gtest/gtest.h>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace reel::realtime;
using namespace std::chrono_literals;
using reel::test::strings;
namespace asio = boost::asio;
using send_result = websocket_connection::send_result;

namespace {

constexpr std::uint8_t k_continuation = 0x0, k_text = 0x1, k_binary = 0x2, k_close = 0x8, k_ping = 0x9;

// A frame as a client sends it: masked unless told otherwise.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const int mask_bit = masked ? 0x80 : 0;
  std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(mask_bit | static_cast<int>(n));
  } else if (n < 65536) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xff);
  }
  if (!masked) return f + std::string(payload);
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(key, 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

struct ws_recorder final : websocket_connection::listener {
  std::vector<std::string> messages, ends;
  std::function<void(std::string_view)> then;
  void on_message(std::string_view m) override {
    messages.emplace_back(m);
    if (then) then(m);
  }
  void on_end(std::string_view why) override { ends.emplace_back(why); }
};

// A websocket_connection on one end of a loopback TCP connection; the test
// is the client at the other end, with plain socket calls.
struct ws_fixture {
  explicit ws_fixture(websocket_connection::settings s = {}, int socket_buffers = 0) : settings(s) {
    settings.read_buffer = buffer;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    client.open(asio::ip::tcp::v4());
    if (socket_buffers) client.set_option(asio::socket_base::receive_buffer_size(socket_buffers));
    client.connect(acceptor.local_endpoint());
    auto server = acceptor.accept();
    if (socket_buffers) server.set_option(asio::socket_base::send_buffer_size(socket_buffers));
    conn = std::make_shared<websocket_connection>(websocket_connection::adopt(io, std::move(server)).value(), events,
                                                  settings);
    conn->start();
  }

  void send(const std::string& bytes) {
    asio::write(client, asio::buffer(bytes));
    run();
  }

  // Lets the connection handle what is ready.
  void run(std::chrono::milliseconds d = 20ms) {
    io.restart();
    io.run_for(d);
  }

  // What the connection wrote, read until `n` bytes came, the connection
  // closed (peer_closed), or two seconds passed; the loop runs meanwhile.
  std::string receive(std::size_t n = std::string::npos) {
    std::string got;
    std::vector<char> chunk(64 * 1024);
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.poll();
      ssize_t k = ::recv(client.native_handle(), chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (k > 0) {
        got.append(chunk.data(), static_cast<std::size_t>(k));
      } else if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        peer_closed = true;
        break;
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    return got;
  }

  asio::io_context io;
  std::vector<char> buffer = std::vector<char>(16 * 1024);
  websocket_connection::settings settings;
  std::shared_ptr<ws_recorder> events = std::make_shared<ws_recorder>();
  asio::ip::tcp::socket client{io};
  std::shared_ptr<websocket_connection> conn;
  bool peer_closed = false;
};

}  // namespace

TEST(websocket_connection, delivers_a_message_that_arrives_a_byte_at_a_time) {
  ws_fixture f;
  for (char c : client_frame(k_text, "40{\"token\":\"abc\"}")) f.send(std::string(1, c));
  EXPECT_EQ(f.events->messages, strings{"40{\"token\":\"abc\"}"});
  EXPECT_TRUE(f.conn->is_open());
}

TEST(websocket_connection, reassembles_fragments_and_answers_a_ping_sent_between_them) {
  ws_fixture f;
  f.send(client_frame(k_text, "40{", false) + client_frame(k_ping, "are you there") +
         client_frame(k_continuation, "tok", false) + client_frame(k_continuation, "en}"));
  EXPECT_EQ(f.events->messages, strings{"40{token}"});
  EXPECT_EQ(f.receive(15),
            "\x8a\x0d"
            "are you there");
}

TEST(websocket_connection, delivers_every_frame_of_one_read_in_order) {
  ws_fixture f;
  f.send(client_frame(k_text, "2") + client_frame(k_text, "3") + client_frame(k_text, std::string(300, 'x')));
  EXPECT_EQ(f.events->messages, (strings{"2", "3", std::string(300, 'x')}));
}

TEST(websocket_connection, a_listener_that_closes_it_hears_nothing_more) {
  ws_fixture f;
  f.events->then = [&f](std::string_view m) {
    if (m == "b") f.conn->close();
  };
  f.send(client_frame(k_text, "a") + client_frame(k_text, "b") + client_frame(k_text, "c"));
  EXPECT_EQ(f.events->messages, (strings{"a", "b"}));
  EXPECT_EQ(f.events->ends, strings{});
  f.receive();
  EXPECT_TRUE(f.peer_closed);
}

TEST(websocket_connection, answers_a_close_frame_and_ends) {
  ws_fixture f;
  f.send(client_frame(k_close, ""));
  EXPECT_EQ(f.receive(), std::string("\x88\x00", 2));
  EXPECT_TRUE(f.peer_closed);
  EXPECT_EQ(f.events->ends, strings{"closed by the peer"});
  EXPECT_FALSE(f.conn->is_open());
}

TEST(websocket_connection, ends_when_the_peer_goes) {
  ws_fixture f;
  f.client.close();
  f.run();
  EXPECT_EQ(f.events->ends, strings{"closed by the peer"});
}

TEST(websocket_connection, ends_on_a_binary_frame) {
  ws_fixture f;
  f.send(client_frame(k_binary, "\x01\x02"));
  EXPECT_EQ(f.events->ends, strings{"binary frames are not supported"});
  f.receive();
  EXPECT_TRUE(f.peer_closed);
}

TEST(websocket_connection, ends_on_an_unmasked_frame) {
  ws_fixture f;
  f.send(client_frame(k_text, "40", true, false));
  EXPECT_EQ(f.events->ends, strings{"protocol error"});
  EXPECT_EQ(f.events->messages, strings{});
}

TEST(websocket_connection, ends_on_a_message_over_the_limit_as_soon_as_its_header_says_so) {
  ws_fixture f({.max_message = 1000});
  f.send(client_frame(k_text, std::string(1000, 'x')));
  EXPECT_EQ(f.events->messages.size(), 1u);
  // 600 + 500 bytes in two fragments: the second header is enough.
  f.send(client_frame(k_text, std::string(600, 'y'), false));
  f.send(client_frame(k_continuation, std::string(500, 'y')).substr(0, 8));
  EXPECT_EQ(f.events->ends, strings{"protocol error"});
  EXPECT_EQ(f.events->messages.size(), 1u);
}

TEST(websocket_connection, writes_text_frames_with_each_length_encoding) {
  ws_fixture f;
  EXPECT_EQ(f.conn->send_text("40"), send_result::sent);
  EXPECT_EQ(f.receive(4),
            "\x81\x02"
            "40");
  std::string medium(300, 'm'), large(70'000, 'l');
  EXPECT_EQ(f.conn->send_text(medium), send_result::sent);
  EXPECT_EQ(f.receive(4 + medium.size()), std::string("\x81\x7e\x01\x2c", 4) + medium);
  EXPECT_EQ(f.conn->send_text(large), send_result::sent);
  EXPECT_EQ(f.receive(10 + large.size()), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10) + large);
}

TEST(websocket_connection, output_the_peer_does_not_read_yet_is_kept_in_order_and_reported_past_the_limit) {
  ws_fixture f({.max_pending = 64 * 1024}, 4096);
  std::string expected;
  int sent = 0;
  for (; sent < 10'000; ++sent) {
    std::string m = "42[\"n\"," + std::to_string(sent) + "]" + std::string(1000, ' ');
    expected += std::string("\x81\x7e", 2) + static_cast<char>(m.size() >> 8) + static_cast<char>(m.size() & 0xff) + m;
    if (f.conn->send_text(m) == send_result::too_much_pending) break;
  }
  ASSERT_LT(sent, 10'000);
  EXPECT_GT(sent, 64);
  // The peer catches up: everything arrives, whole and in order.
  EXPECT_EQ(f.receive(expected.size()), expected);
  EXPECT_TRUE(f.conn->is_open());
  EXPECT_EQ(f.conn->send_text("3"), send_result::sent);
  EXPECT_EQ(f.receive(3),
            "\x81\x01"
            "3");
  EXPECT_EQ(f.events->ends, strings{});
}

TEST(websocket_connection, a_peer_that_stops_reading_is_ended_after_the_write_timeout) {
  ws_fixture f({.max_pending = 64 * 1024, .write_timeout = 100ms}, 4096);
  for (int i = 0; i < 10'000; ++i)
    if (f.conn->send_text(std::string(1000, 'x')) == send_result::too_much_pending) break;
  f.run(50ms);
  EXPECT_EQ(f.events->ends, strings{});
  f.run(300ms);
  EXPECT_EQ(f.events->ends, strings{"the peer stopped reading"});
  EXPECT_FALSE(f.conn->is_open());
}

TEST(websocket_connection, closes_when_its_listener_is_gone) {
  ws_fixture f;
  f.events.reset();
  f.send(client_frame(k_text, "40"));
  EXPECT_FALSE(f.conn->is_open());
  f.receive();
  EXPECT_TRUE(f.peer_closed);
}

TEST(websocket_connection, send_after_close_fails) {
  ws_fixture f;
  f.conn->close();
  EXPECT_EQ(f.conn->send_text("2"), send_result::failed);
  f.run();
  EXPECT_EQ(f.events->ends, strings{});
}
