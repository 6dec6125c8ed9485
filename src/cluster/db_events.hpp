// Events between the processes of an installation without Redis, through
// its database (db/events.hpp): a separate `reel worker` writes what it
// publishes into the events table (database_event_hub), and every `reel
// serve` tails that table (database_event_tail) and publishes what it reads
// to its own hub, so that Socket.IO rooms and caches hear a worker's
// progress, ready and failed events as they hear the process's own. With
// Redis, the cluster's hub carries events instead and these are not built
// (an event never travels both ways). On PostgreSQL each write sends a
// NOTIFY that wakes the tails at once (a wake-up only: the rows carry the
// events, so no payload limit applies); on SQLite the tails poll.
//
// Guarantees: per video, events arrive in the order they were published;
// none arrives twice at a tail; a run of `video:progress` events of one
// video may arrive as its last one only. A tail starts at the newest row
// (a new API node replays nothing). Events are live updates: rows older
// than a few minutes are pruned, and a process that restarts loses only
// events nobody needs (the state they announce is in the videos table).
// Loop thread only.
#pragma once

#include "core/clock.hpp"
#include "core/events.hpp"
#include "db/database.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace reel::cluster {

// The video an event is about: its payload's "id", or its "video"'s "id"; "" for none.
std::string video_id_of(const event& e);

struct event_writer_options {
  // Events kept while the database does not take them; past it the oldest go.
  std::size_t max_pending = 10'000;
  // After a write failed, the next try.
  std::chrono::milliseconds retry{1'000};
  // Rows older than this are pruned, at most once per prune_every, by a write.
  std::chrono::milliseconds keep{std::chrono::minutes(5)};
  std::chrono::milliseconds prune_every{std::chrono::minutes(1)};
};

// The hub of a `reel worker` without Redis: an event reaches this process's
// subscribers at once and is queued for the events table, which one writer
// at a time fills in batches (one transaction each). Progress of a video
// still queued behind nothing else of that video is replaced by the newer
// one, so a slow database sees fewer rows, not a longer queue.
class database_event_hub final : public event_hub {
 public:
  database_event_hub(boost::asio::io_context& io, db::gateway& db, const clock& c, event_writer_options o = {});
  database_event_hub(const database_event_hub&) = delete;
  database_event_hub& operator=(const database_event_hub&) = delete;

  void publish(const event& e) override;
  std::size_t subscribe(subscriber s) override { return local_.subscribe(std::move(s)); }
  void unsubscribe(std::size_t handle) override { local_.unsubscribe(handle); }

  // Completes once every event published so far is written, or after
  // `limit` (a shutdown's last words).
  boost::asio::awaitable<void> flush(std::chrono::milliseconds limit);

  std::uint64_t written() const noexcept { return written_; }
  std::uint64_t dropped() const noexcept { return dropped_; }
  std::size_t pending() const noexcept { return pending_.size() + in_flight_; }

 private:
  struct queued {
    event e;
    std::string video_id;
  };
  boost::asio::awaitable<void> run_writer();
  // Writes `batch` (and prunes when due); false when the database refused.
  boost::asio::awaitable<bool> write(std::deque<queued>& batch);
  void trim();

  boost::asio::io_context& io_;
  db::gateway& db_;
  const clock& clock_;
  event_writer_options options_;
  local_event_hub local_;
  std::deque<queued> pending_;
  std::size_t in_flight_ = 0;
  bool writing_ = false;
  bool failing_ = false;  // the last write failed (logged once until one succeeds)
  sys_time next_prune_{};
  std::uint64_t written_ = 0, dropped_ = 0;
};

struct event_tail_options {
  // How often the table is read without notifications (SQLite), and with
  // them (PostgreSQL: a fallback while the listener reconnects).
  std::chrono::milliseconds poll{200};
  std::chrono::milliseconds poll_notified{2'000};
  // Rows read at a time.
  std::int64_t batch = 500;
};

// Reads the events table from where it ended when started, and hands each
// event to on_event in id order (after dropping progress that a later
// progress of the same video in the same read supersedes).
class database_event_tail {
 public:
  // `wakeups`: db::listen_for_events (nullptr on SQLite); started by start().
  database_event_tail(boost::asio::io_context& io, db::gateway& db, std::unique_ptr<db::listener> wakeups,
                      event_tail_options o = {});
  database_event_tail(const database_event_tail&) = delete;
  database_event_tail& operator=(const database_event_tail&) = delete;

  std::function<void(const event&)> on_event;

  void start();
  // Nothing is delivered after this. The tail's coroutine may still wait for
  // a read in flight: keep the object until running() is false or the loop
  // has stopped.
  void stop();
  bool running() const noexcept { return running_; }
  // The newest row seen (tests).
  std::int64_t position() const noexcept { return last_; }
  // Whether the starting position has been read (tests).
  bool positioned() const noexcept { return positioned_; }
  std::uint64_t delivered() const noexcept { return delivered_; }

 private:
  boost::asio::awaitable<void> run_tail();
  boost::asio::awaitable<void> pause(std::chrono::milliseconds d);
  void deliver(const std::vector<event>& events);

  boost::asio::io_context& io_;
  db::gateway& db_;
  std::unique_ptr<db::listener> wakeups_;
  event_tail_options options_;
  boost::asio::steady_timer timer_;
  std::uint64_t notifications_ = 0;
  std::int64_t last_ = 0;
  bool positioned_ = false;
  bool stopped_ = false;
  bool running_ = false;
  std::uint64_t delivered_ = 0;
};

}  // namespace reel::cluster
