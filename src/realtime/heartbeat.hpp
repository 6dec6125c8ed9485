// The Engine.IO v4 heartbeat of every session on one timer (docs/PROTOCOLS.md
// A): a session is pinged `interval` after it opened or answered its last
// ping, and times out when no pong comes within `timeout` of a ping (Node's
// schedule). Every session waits the same interval, or the same timeout, so
// a session always joins the back of one of two queues that therefore stay in
// deadline order: scheduling is O(1), a session carries two pointers and a
// time point instead of a timer of its own, and one timer waits for the
// earliest deadline. Sessions that fall due together (opened in one burst,
// and so pinged in one burst ever after) are served `per_turn` at a time,
// the loop running other work between turns: a ping round of 100,000
// sessions never holds the loop for the whole round. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>
#include <cstddef>
#include <functional>

namespace reel::realtime {

class heartbeat {
 public:
  using clock = std::chrono::steady_clock;

  // A session's place in the schedule: sessions derive from it. Destroying a
  // member takes it out of the schedule.
  class member {
   public:
    bool awaiting_pong() const noexcept { return awaiting_pong_; }

   private:
    friend class heartbeat;
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> hook_;
    clock::time_point due_{};
    bool awaiting_pong_ = false;
  };

  struct handlers {
    // Send a ping to `m` (a pong is now awaited).
    std::function<void(member& m)> ping;
    // `m` did not answer its ping in time; it has left the schedule.
    std::function<void(member& m)> timed_out;
  };

  // Members served per turn of the loop at most.
  static constexpr std::size_t default_per_turn = 512;

  // `now` is the time source; tests pass their own and call run_due().
  heartbeat(boost::asio::io_context& io, std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
            handlers h, std::function<clock::time_point()> now = clock::now, std::size_t per_turn = default_per_turn);
  heartbeat(const heartbeat&) = delete;
  heartbeat& operator=(const heartbeat&) = delete;

  // Schedules the first ping of `m`, `interval` from now.
  void start(member& m);
  // A pong from `m`: its next ping is `interval` from now. A pong nobody
  // asked for changes nothing.
  void pong(member& m);
  // Takes `m` out of the schedule.
  void stop(member& m);

  // Pings, or times out, the members whose deadline has come, earliest
  // first, at most `per_turn` of them; the timer calls it, and comes back at
  // once (after what else the loop has ready) while some are still due.
  void run_due();

  // Members scheduled (linear; for tests and metrics).
  std::size_t size() const noexcept { return awaiting_ping_.size() + awaiting_pong_.size(); }

 private:
  using hook_option = boost::intrusive::member_hook<member, decltype(member::hook_), &member::hook_>;
  using queue = boost::intrusive::list<member, hook_option, boost::intrusive::constant_time_size<false>>;

  // Makes sure the timer waits for the earliest deadline.
  void arm();

  std::chrono::milliseconds interval_, timeout_;
  std::size_t per_turn_;
  handlers handlers_;
  std::function<clock::time_point()> now_;
  queue awaiting_ping_, awaiting_pong_;  // each in deadline order
  boost::asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();  // max: the timer is not waiting
};

}  // namespace reel::realtime
