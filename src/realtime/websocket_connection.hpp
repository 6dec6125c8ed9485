// A server-side WebSocket connection after its handshake (RFC 6455), driven
// by completion callbacks instead of a coroutine so that an idle connection
// costs little memory: all it has pending is one small wait for the socket to
// become readable; bytes are read into a buffer that every connection of the
// loop thread shares, and a connection keeps only what is left over (part of
// a frame, a message still in fragments, output the peer has not taken yet),
// which is nothing while it is idle.
//
// Text messages are delivered whole, fragments reassembled. Pings are
// answered with pongs; a close frame is answered and ends the connection, as
// do binary frames, unmasked frames, extensions and over-long messages.
// Output is text frames, handed to the socket at once when it takes them,
// otherwise kept and written as the peer reads. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace reel::realtime {

class websocket_connection : public std::enable_shared_from_this<websocket_connection> {
 public:
  // The owner's side. Calls come from the connection's completion handlers,
  // never from inside send_text() or close().
  class listener {
   public:
    // One whole text message.
    virtual void on_message(std::string_view message) = 0;
    // The connection ended by itself: the peer closed it or broke the
    // protocol, the socket failed, or the peer stopped reading.
    virtual void on_end(std::string_view why) = 0;

   protected:
    ~listener() = default;
  };

  // What every connection of one server shares; it outlives them.
  struct settings {
    std::size_t max_message = 1'000'000;  // a longer message ends the connection
    std::size_t max_pending = 1 << 20;    // output held beyond this makes send_text() report it
    // A peer that takes none of the pending output for this long is gone.
    std::chrono::milliseconds write_timeout{30'000};
    std::span<char> read_buffer;  // scratch space for every read
  };

  // The loop's own executor type: a pending wait is then half the size of
  // one that carries a polymorphic executor (and so is the socket).
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

  // Moves an open socket (Beast's, after the handshake) to socket_type.
  static boost::system::result<socket_type> adopt(boost::asio::io_context& io, boost::asio::ip::tcp::socket s);

  websocket_connection(socket_type socket, std::weak_ptr<listener> l, const settings& s);
  websocket_connection(const websocket_connection&) = delete;
  websocket_connection& operator=(const websocket_connection&) = delete;

  // Starts reading; the connection stays alive while it waits for the peer.
  void start();

  enum class send_result {
    sent,              // written, or held until the peer reads
    too_much_pending,  // held, but more than max_pending bytes now wait
    failed,            // the socket failed or the connection is closed: it is closed now
  };
  send_result send_text(std::string_view payload);

  // Closes the socket, dropping output not yet written; the listener hears
  // nothing more.
  void close();
  bool is_open() const noexcept { return !closed_; }

 private:
  void wait_readable();
  void read_available();
  // Parses and handles the complete frames of `bytes` and keeps the rest;
  // false when the connection ended meanwhile.
  bool consume(std::span<char> bytes);
  send_result send_frame(std::uint8_t opcode, std::string_view payload);
  void wait_writable();
  void write_pending();
  void watch_write_progress();
  void end(std::string_view why);

  socket_type socket_;
  std::weak_ptr<listener> listener_;
  const settings& settings_;
  std::string partial_;                                     // received bytes of a frame not complete yet
  std::string message_;                                     // a text message being reassembled from fragments
  std::string pending_;                                     // encoded output the socket has not taken yet
  std::unique_ptr<boost::asio::steady_timer> write_timer_;  // only while output waited lately
  std::chrono::steady_clock::time_point write_progress_{};  // last time pending output shrank or began
  bool closed_ = false;
  bool waiting_writable_ = false;
};

}  // namespace reel::realtime
