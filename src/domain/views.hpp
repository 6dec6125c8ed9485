// Views: a play (the MP4 from byte 0, or a rendition's first segment)
// counts one view per viewer per video per window (30 minutes), and the
// views per UTC day. A viewer is a signed-in user by their id, anyone else
// by a hash of their address and User-Agent under a salt that changes each
// UTC day and is never stored (HMAC-SHA256(server secret, "views:" + date)):
// no cookie, and neither the address nor the User-Agent is kept.
//
// Counting never holds up the request that played: record() starts the
// write in the background on the loop (the write runs on the pool) and
// returns at once; at most `max_writes_in_flight` writes run at a time and
// plays beyond that are dropped (counted in dropped()). Loop thread only,
// except where said.
#pragma once

#include "core/clock.hpp"
#include "model/principal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reel::db {
class gateway;
}

namespace reel::domain {

struct view_settings {
  // A viewer's plays of a video within this long of their last counted view do not count.
  std::chrono::minutes window{30};
  // Counting writes under way at once; plays beyond are dropped.
  std::size_t max_writes_in_flight = 256;
  // Per-day counts older than this many days are deleted by prune().
  int kept_days = 400;
  // Viewers this process counted lately, remembered so that their next
  // plays within the window cost no write (a player's range requests).
  std::size_t remembered_viewers = 10'000;
};

// Who played: the signed-in user (null for nobody), else the client
// address and User-Agent.
struct play_source {
  const model::principal* who = nullptr;
  std::string_view address;
  std::string_view user_agent;
};

struct view_day {
  std::string date;  // "YYYY-MM-DD", UTC
  std::int64_t views = 0;
};

struct view_stats {
  std::string video_id;
  std::int64_t view_count = 0;
  std::vector<view_day> days;  // oldest first, ending today (UTC), days without views included
};

// "YYYY-MM-DD" of `t` in UTC.
std::string utc_date(sys_time t);

class views {
 public:
  // `loop`: where counting runs; `secret`: the server's signing secret (the
  // daily salts are derived from it).
  views(db::gateway& db, boost::asio::any_io_executor loop, const clock& time, std::string secret,
        view_settings settings = {});

  // The viewer's key: "u:<user id>" for a signed-in user, else "a:" and the
  // salted hash of address and User-Agent (today's salt, UTC).
  std::string viewer_of(const play_source& p) const;

  // Counts a play of `video_id` now, in the background. Never throws and
  // never waits: a failed write is logged, a play beyond the writes in flight dropped.
  void record(const std::string& video_id, const play_source& p);

  // Counts a view of `video_id` by `viewer` at `at` unless they were counted
  // within the window before; returns whether it counted. Throws db_error.
  boost::asio::awaitable<bool> count(std::string video_id, std::string viewer, sys_time at);

  // The video's total and its views on each of the last `days` UTC days
  // (today last). error(forbidden) below viewer role, error(not_found) for
  // an unknown id or another organization's video.
  boost::asio::awaitable<view_stats> stats(const model::org_scope& in, const std::string& id, int days = 30);

  // Forgets viewers counted longer than the window ago and per-day counts
  // older than kept_days. Returns the rows deleted.
  boost::asio::awaitable<std::int64_t> prune();

  std::uint64_t counted() const noexcept { return counted_; }
  std::uint64_t dropped() const noexcept { return dropped_; }
  std::uint64_t failed() const noexcept { return failed_; }
  std::size_t writes_in_flight() const noexcept { return in_flight_; }

 private:
  std::string viewer_at(const play_source& p, sys_time at) const;
  bool counted_lately(const std::string& key, sys_time at);

  db::gateway& db_;
  boost::asio::any_io_executor loop_;
  const clock& time_;
  std::string secret_;
  view_settings settings_;
  std::unordered_map<std::string, sys_time> recent_;  // video|viewer → counted at (this process)
  std::size_t in_flight_ = 0;
  std::uint64_t counted_ = 0, dropped_ = 0, failed_ = 0;
};

}  // namespace reel::domain
