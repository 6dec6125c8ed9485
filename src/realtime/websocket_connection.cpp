#include "realtime/websocket_connection.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>

#include <array>

#include <unistd.h>

namespace reel::realtime {

namespace asio = boost::asio;

namespace {

// Asio keeps the last few freed operation blocks of each thread and hands
// them to any later operation that fits, so the wait for a peer's next
// message could hold on to a kilobyte that the handshake left behind. That
// wait lasts as long as an idle connection: it asks the heap for its own
// size instead.
template <class T>
struct exact_allocator {
  using value_type = T;
  exact_allocator() noexcept = default;
  template <class U>
  exact_allocator(const exact_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
  bool operator==(const exact_allocator&) const noexcept = default;
};

constexpr std::uint8_t k_continuation = 0x0, k_text = 0x1, k_close = 0x8, k_ping = 0x9, k_pong = 0xA;

// Reads per turn of one connection before the others get theirs.
constexpr int k_reads_per_turn = 4;

// The header of an unmasked server frame with FIN set; returns its length.
std::size_t frame_header(std::uint8_t opcode, std::size_t n, std::array<char, 10>& out) {
  out[0] = static_cast<char>(0x80 | opcode);
  if (n < 126) {
    out[1] = static_cast<char>(n);
    return 2;
  }
  if (n < 65536) {
    out[1] = static_cast<char>(126);
    out[2] = static_cast<char>((n >> 8) & 0xff);
    out[3] = static_cast<char>(n & 0xff);
    return 4;
  }
  out[1] = static_cast<char>(127);
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * (7 - i))) & 0xff);
  return 10;
}

void release(std::string& s) { std::string().swap(s); }

}  // namespace

boost::system::result<websocket_connection::socket_type> websocket_connection::adopt(asio::io_context& io,
                                                                                     asio::ip::tcp::socket s) {
  boost::system::error_code ec;
  auto protocol = s.local_endpoint(ec).protocol();
  if (ec) return ec;
  auto fd = s.release(ec);
  if (ec) return ec;
  socket_type adopted(io);
  adopted.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return ec;
  }
  return adopted;
}

websocket_connection::websocket_connection(socket_type socket, std::weak_ptr<listener> l, const settings& s)
    : socket_(std::move(socket)), listener_(std::move(l)), settings_(s) {}

void websocket_connection::start() {
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->end("socket failed"); });
    return;
  }
  wait_readable();
}

void websocket_connection::wait_readable() {
  auto on_ready = [self = shared_from_this()](boost::system::error_code ec) {
    if (!self->is_open()) return;
    if (ec)
      self->end("read failed");
    else
      self->read_available();
  };
  socket_.async_wait(asio::socket_base::wait_read, asio::bind_allocator(exact_allocator<void>(), std::move(on_ready)));
}

void websocket_connection::read_available() {
  for (int i = 0; i < k_reads_per_turn; ++i) {
    boost::system::error_code ec;
    std::size_t n = socket_.read_some(asio::buffer(settings_.read_buffer.data(), settings_.read_buffer.size()), ec);
    if (ec == asio::error::would_block) {
      wait_readable();
      return;
    }
    if (ec) {
      end(ec == asio::error::eof ? "closed by the peer" : "read failed");
      return;
    }
    if (!consume(settings_.read_buffer.first(n))) return;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->is_open()) self->read_available();
  });
}

bool websocket_connection::consume(std::span<char> bytes) {
  // Frames are parsed (and unmasked) where they lie: in the shared read
  // buffer, or in partial_ behind what an earlier read left.
  const bool in_partial = !partial_.empty();
  if (in_partial) {
    partial_.append(bytes.data(), bytes.size());
    bytes = {partial_.data(), partial_.size()};
  }
  std::size_t used = 0;
  for (;;) {
    std::span<char> in = bytes.subspan(used);
    if (in.size() < 2) break;
    auto b0 = static_cast<unsigned char>(in[0]), b1 = static_cast<unsigned char>(in[1]);
    bool fin = b0 & 0x80, masked = b1 & 0x80;
    std::uint8_t opcode = b0 & 0x0f;
    std::uint64_t len = b1 & 0x7f;
    std::size_t header = 2;
    if (len == 126) {
      if (in.size() < 4) break;
      len = (std::uint64_t(static_cast<unsigned char>(in[2])) << 8) | static_cast<unsigned char>(in[3]);
      header = 4;
    } else if (len == 127) {
      if (in.size() < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(in[2 + i]);
      header = 10;
    }
    // Clients must mask; no extensions are agreed; the size is bounded.
    if (!masked || (b0 & 0x70) || len > settings_.max_message - message_.size()) {
      end("protocol error");
      return false;
    }
    if (in.size() < header + 4 + len) break;
    const char* key = in.data() + header;
    std::span<char> payload = in.subspan(header + 4, len);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ key[i % 4]);
    used += header + 4 + len;
    std::string_view text(payload.data(), payload.size());

    if (opcode == k_close) {
      (void)send_frame(k_close, {});
      end("closed by the peer");
      return false;
    } else if (opcode == k_ping) {
      auto sent = send_frame(k_pong, text);
      if (sent != send_result::sent) {
        end(sent == send_result::failed ? "write failed" : "the peer does not read");
        return false;
      }
    } else if (opcode == k_pong) {
    } else if (opcode == k_text || opcode == k_continuation) {
      if (opcode == k_text && !message_.empty()) {
        end("protocol error");  // a new message inside a fragmented one
        return false;
      }
      std::string whole;
      if (!message_.empty() || !fin) {
        message_.append(text);
        if (!fin) continue;
        whole.swap(message_);
        text = whole;
      }
      auto l = listener_.lock();
      if (!l) {
        close();
        return false;
      }
      l->on_message(text);
      if (closed_) return false;  // the listener closed it (partial_ is gone)
    } else {
      end("binary frames are not supported");
      return false;
    }
  }
  // Keep only the bytes of a frame not complete yet; nothing when idle.
  if (in_partial)
    partial_.erase(0, used);
  else
    partial_.assign(bytes.data() + used, bytes.size() - used);
  if (partial_.empty()) release(partial_);
  return true;
}

websocket_connection::send_result websocket_connection::send_text(std::string_view payload) {
  if (closed_) return send_result::failed;
  auto sent = send_frame(k_text, payload);
  if (sent == send_result::failed) close();
  return sent;
}

websocket_connection::send_result websocket_connection::send_frame(std::uint8_t opcode, std::string_view payload) {
  std::array<char, 10> header;
  std::size_t header_size = frame_header(opcode, payload.size(), header);
  if (!pending_.empty()) {  // behind what waits already, in order
    pending_.append(header.data(), header_size);
    pending_.append(payload);
  } else {
    // Straight to the socket, header and payload in one system call and
    // without a copy: a broadcast costs one write per client.
    std::array<asio::const_buffer, 2> frame{asio::buffer(header.data(), header_size), asio::buffer(payload)};
    boost::system::error_code ec;
    std::size_t n = socket_.write_some(frame, ec);
    if (ec == asio::error::would_block)
      n = 0;
    else if (ec)
      return send_result::failed;
    if (n == header_size + payload.size()) return send_result::sent;
    // The socket took part of it: keep the rest until the peer reads.
    if (n < header_size) pending_.append(header.data() + n, header_size - n);
    pending_.append(payload.substr(n > header_size ? n - header_size : 0));
    write_progress_ = std::chrono::steady_clock::now();
    wait_writable();
  }
  return pending_.size() > settings_.max_pending ? send_result::too_much_pending : send_result::sent;
}

void websocket_connection::wait_writable() {
  if (waiting_writable_) return;
  waiting_writable_ = true;
  socket_.async_wait(asio::socket_base::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->waiting_writable_ = false;
    if (!self->is_open()) return;
    if (ec)
      self->end("write failed");
    else
      self->write_pending();
  });
  watch_write_progress();
}

void websocket_connection::write_pending() {
  while (!pending_.empty()) {
    boost::system::error_code ec;
    std::size_t n = socket_.write_some(asio::buffer(pending_), ec);
    if (ec == asio::error::would_block) {
      wait_writable();
      return;
    }
    if (ec) {
      end("write failed");
      return;
    }
    pending_.erase(0, n);
    write_progress_ = std::chrono::steady_clock::now();
  }
  release(pending_);
}

// One timer while output waits, checking that it shrinks; it goes away at
// the first check that finds nothing waiting.
void websocket_connection::watch_write_progress() {
  if (!write_timer_)
    write_timer_ = std::make_unique<asio::steady_timer>(socket_.get_executor());
  else if (write_timer_->expiry() > std::chrono::steady_clock::now())
    return;  // already watching
  write_timer_->expires_at(write_progress_ + settings_.write_timeout);
  write_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || !self->is_open()) return;
    if (self->pending_.empty()) {
      self->write_timer_.reset();
    } else if (std::chrono::steady_clock::now() - self->write_progress_ >= self->settings_.write_timeout) {
      self->end("the peer stopped reading");
    } else {
      self->watch_write_progress();
    }
  });
}

void websocket_connection::end(std::string_view why) {
  if (closed_) return;
  close();
  if (auto l = listener_.lock()) l->on_end(why);
}

void websocket_connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(socket_type::shutdown_both, ignored);
  socket_.close(ignored);  // waits still pending complete with operation_aborted
  write_timer_.reset();
  release(partial_);
  release(message_);
  release(pending_);
}

}  // namespace reel::realtime
