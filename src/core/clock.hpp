// Time as the program sees it: a clock that tests can replace, and the
// ISO-8601 UTC text form the API and the database use.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace reel {

using sys_time = std::chrono::system_clock::time_point;

// Wall-clock time. Thread-safe.
class clock {
 public:
  virtual ~clock() = default;
  virtual sys_time now() const = 0;
};

class system_clock final : public clock {
 public:
  sys_time now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to (tests).
class manual_clock final : public clock {
 public:
  explicit manual_clock(sys_time start = sys_time{} + std::chrono::hours(24 * 365 * 56))
      : now_(start.time_since_epoch().count()) {}
  sys_time now() const override { return sys_time(sys_time::duration(now_.load())); }
  void advance(std::chrono::milliseconds d) { now_ += std::chrono::duration_cast<sys_time::duration>(d).count(); }

 private:
  std::atomic<sys_time::rep> now_;
};

// "2026-11-26T03:14:08.123Z": millisecond precision, sorts as text.
std::string to_iso8601(sys_time t);
// Parses what to_iso8601 writes; nullopt for anything else.
std::optional<sys_time> from_iso8601(std::string_view text);
// "Thu, 26 Nov 2026 03:14:08 GMT" (HTTP-date, RFC 9110).
std::string to_http_date(sys_time t);
std::optional<sys_time> from_http_date(std::string_view text);

}  // namespace reel
