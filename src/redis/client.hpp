// A small Redis client on Asio: a pipelined command connection and a
// subscriber connection, each reconnecting by itself with backoff.
//
// Loop thread only: every member function, callback and coroutine runs on
// the executor given to the constructor, which must be a single-threaded
// io_context's (strands are not used). Nothing here blocks: names are
// resolved with async_resolve, every read and write is asynchronous.
//
// A client or subscriber must be destroyed before its io_context (like any
// Asio object). Destroying it earlier is always safe: its coroutines keep
// only its shared state alive and finish without touching the owner.
#pragma once

#include "redis/resp.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reel::redis {

// Where a Redis server is and how to log in to it.
struct url {
  std::string host;  // a name or address (IPv6 without brackets); empty for a Unix socket
  std::uint16_t port = 6379;
  std::string unix_path;                // the socket's path; empty for TCP
  int db = 0;                           // SELECTed on connect when not 0
  std::optional<std::string> username;  // AUTH username password (Redis 6 ACL) when set
  std::optional<std::string> password;  // AUTH password when set

  bool is_unix() const noexcept { return !unix_path.empty(); }
  // The server for messages and logs, never the password:
  // "127.0.0.1:6379", "[::1]:6380/2", "unix:/run/redis.sock?db=2".
  std::string describe() const;
};

// Accepts
//   redis://host[:port][/db]
//   redis://[user]:password@host[:port][/db]   (user and password may be %-encoded)
//   unix:///path/to/socket[?db=N][&password=P]
// (redis:// takes ?db=N and ?password=P too). Throws std::invalid_argument
// saying which part is wrong, without repeating the password.
url parse_url(std::string_view text);

// Not connected, or the connection was lost (or closed by stop()) before the
// reply came. The command may or may not have run.
class unavailable : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

// Redis answered with an error reply; what() is its text ("ERR unknown
// command ...", "WRONGTYPE Operation against a key ...").
class reply_error : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
  // The error's first word: "ERR", "WRONGTYPE", "NOAUTH"...
  std::string prefix() const;
};

struct client_options {
  std::chrono::milliseconds connect_timeout{2000};  // resolve + connect + AUTH/SELECT/SETNAME (+ SUBSCRIBE)
  // A reply slower than this: the connection is considered broken, closed
  // and reconnected; every command waiting on it gets `unavailable`.
  std::chrono::milliseconds command_timeout{2000};
  // Reconnection delays: from min, doubling after each failure up to max,
  // each one drawn between half of it and all of it.
  std::chrono::milliseconds backoff_min{100}, backoff_max{5000};
  // Subscriber only: a PING after this long without a byte from the server;
  // no answer within command_timeout and the connection is replaced.
  std::chrono::milliseconds ping_interval{15000};
  std::string name;  // CLIENT SETNAME on connect when not empty ("reel:node1:commands"); no spaces
  parser_limits limits;
};

namespace detail {
struct client_state;
struct subscriber_state;
}  // namespace detail

// A connection for commands: pipelined (any number of commands in flight,
// replies matched in order, queued commands written together), reconnecting
// by itself in the background after start() until stop(). Each connection
// sends AUTH (with a password) and SELECT (db != 0) and CLIENT SETNAME (with
// a name) before any command.
//
// Callbacks run on the loop, never after stop() or destruction; a callback
// may call stop() or destroy the client.
class client {
 public:
  client(boost::asio::any_io_executor ex, url u, client_options o = {});
  // stop() implied.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Starts connecting; returns at once. Again after stop(): starts anew.
  void start();
  // Closes the connection and stops reconnecting; commands in flight fail
  // with `unavailable`. Idempotent.
  void stop();
  // Handshake done and the connection not known to be broken.
  bool connected() const noexcept;

  // Sends one command (its name, then its arguments) and returns the reply.
  // Throws `unavailable` at once when not connected (nothing is queued while
  // down), or when the connection is lost before the reply; `reply_error`
  // for an error reply (error values inside an array reply are returned);
  // std::invalid_argument for no arguments or a command that would take the
  // connection out of request/reply mode ((P|S)SUBSCRIBE, MONITOR).
  // The client may be destroyed while the command waits (it then fails).
  boost::asio::awaitable<value> command(std::vector<std::string> args);

  // After each successful (re)connection, once the handshake is done.
  std::function<void()> on_connected;
  // Once per lost connection, and once when the first attempt after start()
  // fails; `why` says what happened.
  std::function<void(const std::string& why)> on_disconnected;

 private:
  std::shared_ptr<detail::client_state> state_;
};

// A dedicated connection in SUBSCRIBE mode: remembers its channels and
// subscribes to all of them again after every reconnection. Messages
// published while it was down are lost: on_connected tells the owner when
// it may want to resynchronize.
class subscriber {
 public:
  subscriber(boost::asio::any_io_executor ex, url u, client_options o = {});
  ~subscriber();
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  // Adds a channel (again: nothing happens); before or after start().
  void subscribe(std::string channel);
  void start();
  void stop();
  // Connected and subscribed to every channel it had when it connected.
  bool connected() const noexcept;

  std::function<void(const std::string& channel, const std::string& message)> on_message;
  // After each (re)connection, once subscribed to every channel.
  std::function<void()> on_connected;
  // As client::on_disconnected.
  std::function<void(const std::string& why)> on_disconnected;

 private:
  std::shared_ptr<detail::subscriber_state> state_;
};

}  // namespace reel::redis
