// Structured, asynchronous logging. Any thread may log; lines are formatted by
// the caller and written to stderr by a background thread, so the event loop
// never blocks on a slow terminal or pipe. When the queue is full, lines are
// dropped and counted rather than blocking the caller.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace reel::log {

enum class level { debug, info, warn, error };

std::optional<level> parse_level(std::string_view text) noexcept;
std::string_view level_name(level l) noexcept;

// A key=value field. Values with spaces, quotes or control characters are quoted.
struct field {
  std::string_view key;
  std::string value;
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class N>
  requires std::is_arithmetic_v<N> field(std::string_view k, N n) : key(k), value(std::to_string(n)) {}
};

void set_level(level l) noexcept;
bool enabled(level l) noexcept;

// Formats and queues one line: `<time> <LEVEL> <message> k=v ...`.
void write(level l, std::string_view message, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::debug)) write(level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::info)) write(level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::warn)) write(level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::error)) write(level::error, m, f);
}

// Blocks until every queued line is written. Call before exit.
void flush();

// Lines dropped because the queue was full (a metric).
std::uint64_t dropped_lines() noexcept;

}  // namespace reel::log
