// One process's line to the other processes of a cluster, through Redis:
// what one node does that the others must hear of at once (events for
// Socket.IO rooms, revoked sessions, changed memberships, cache drops,
// requests to stop an upload's writer).
//
// Each channel is a Redis stream (XADD, trimmed to about `stream_length`
// entries), read by every process from the last entry it saw (XREAD BLOCK
// on a connection of its own): a process that lost its connection for a
// moment reads what was added meanwhile once it is back, instead of losing
// it as a pub/sub subscriber would. Messages are JSON objects; each carries
// this process's random id, so that its own are skipped. While Redis is
// down, messages to publish wait in a bounded outbox (the oldest go first
// when it is full) and are added in order once it is back. `on_resync`
// tells the owner when messages may have been missed all the same (Redis
// restarted empty, or this process was away longer than the streams
// reach): caches must be dropped. Loop thread only.
#pragma once

#include "redis/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace reel::cluster {

// The channels (streams) reel uses.
inline constexpr const char* events_channel = "reel:events";    // video events, for Socket.IO rooms
inline constexpr const char* control_channel = "reel:control";  // revocations, cache drops, writer stops

struct link_options {
  std::string node_name;              // for logs and Redis' CLIENT LIST
  std::size_t outbox_limit = 10'000;  // messages kept while Redis is down
  std::size_t stream_length = 10'000;            // entries a stream keeps (about: MAXLEN ~)
  std::chrono::milliseconds block{1'000};        // how long one XREAD waits for entries
  redis::client_options connection;   // timeouts and reconnection backoff
};

class link {
 public:
  using handler = std::function<void(const boost::json::object&)>;

  link(boost::asio::any_io_executor ex, const redis::url& where, link_options options);
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // Handles messages published on `channel` by other processes (every
  // handler of a channel gets every message). Before start().
  void on(const std::string& channel, handler h);
  void start();
  void stop();

  // Waits (at most `limit`) until every message waiting has been sent, or
  // Redis is down: what a process does before it stops.
  boost::asio::awaitable<void> flush(std::chrono::milliseconds limit);

  // Publishes `message` on `channel` (adds "from").
  void publish(const std::string& channel, boost::json::object message);

  // Both connections are up (and the reader knows where it is).
  bool connected() const noexcept;
  // "" when connected, else what is wrong (for /readyz and logs).
  std::string problem() const;
  // The connection for commands (locks, counters).
  redis::client& commands() noexcept { return commands_; }
  // This process's random id, as messages carry it.
  const std::string& id() const noexcept { return id_; }
  std::uint64_t published() const noexcept { return published_; }
  std::uint64_t received() const noexcept { return received_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

  // Both connections are back after an interruption: messages may have been lost.
  std::function<void()> on_resync;
  // The link went down (either connection).
  std::function<void()> on_lost;

 private:
  void deliver(const std::string& channel, const std::string& text);
  void wake_sender();
  void connection_changed();
  boost::asio::awaitable<void> send_outbox(std::shared_ptr<bool> alive);
  boost::asio::awaitable<void> read_streams(std::shared_ptr<bool> alive);
  // Where each stream ends now (its last entry's id, "0-0" when empty).
  boost::asio::awaitable<void> find_stream_ends();
  // Hands over the entries of an XREAD reply; false when it is not one.
  bool take_entries(const redis::value& reply);

  boost::asio::any_io_executor ex_;
  link_options options_;
  std::string id_;
  redis::client commands_;
  redis::client reader_;
  std::map<std::string, std::vector<handler>> handlers_;
  std::map<std::string, std::string> last_ids_;  // per stream, the last entry read
  bool reading_ = false;                         // the reader knows where each stream ends
  struct pending {
    std::string channel, text;
  };
  std::deque<pending> outbox_;
  boost::asio::steady_timer wakeup_, reader_wakeup_;
  bool sending_ = false;
  bool was_connected_ = false;
  bool ever_connected_ = false;
  bool stopped_ = false;
  std::uint64_t published_ = 0, received_ = 0, dropped_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reel::cluster
