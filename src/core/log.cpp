#include "core/log.hpp"

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace reel::log {
namespace {

constexpr std::size_t k_max_queued_lines = 65536;
constexpr std::size_t k_wake_at_lines = 4096;
constexpr auto k_flush_interval = std::chrono::milliseconds(50);

std::atomic<level> g_level{level::info};

// The writer thread and its queue. Constructed on first use, flushed and
// joined at static destruction (and by flush()).
class sink {
 public:
  sink() : thread_([this] { run(); }) {}
  ~sink() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Queues a line. The writer is woken only for urgent lines or a long
  // queue; otherwise it comes by every k_flush_interval, so a busy loop does
  // not pay a thread wake-up per request.
  void push(std::string line, bool urgent) {
    bool wake = urgent;
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= k_max_queued_lines) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(line));
      wake = wake || queue_.size() == k_wake_at_lines;
    }
    if (wake) wake_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    flush_requested_ = true;
    wake_.notify_one();
    drained_.wait(lock, [this] { return queue_.empty() && !writing_; });
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait_for(lock, k_flush_interval,
                     [this] { return stopping_ || flush_requested_ || queue_.size() >= k_wake_at_lines; });
      flush_requested_ = false;
      if (queue_.empty()) {
        if (stopping_) return;
        drained_.notify_all();
        continue;
      }
      std::deque<std::string> batch;
      batch.swap(queue_);
      writing_ = true;
      lock.unlock();
      std::string out;
      for (auto& l : batch) out += l;
      write_all(out);
      lock.lock();
      writing_ = false;
      drained_.notify_all();
    }
  }

  static void write_all(std::string_view s) {
    while (!s.empty()) {
      auto n = ::write(STDERR_FILENO, s.data(), s.size());
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  bool writing_ = false;
  bool flush_requested_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

sink& the_sink() {
  static sink s;
  return s;
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void append_time(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = time_point_cast<seconds>(now);
  auto ms = duration_cast<milliseconds>(now - secs).count();
  std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out += buf;
}

}  // namespace

std::optional<level> parse_level(std::string_view text) noexcept {
  if (text == "debug") return level::debug;
  if (text == "info") return level::info;
  if (text == "warn") return level::warn;
  if (text == "error") return level::error;
  return std::nullopt;
}

std::string_view level_name(level l) noexcept {
  switch (l) {
    case level::debug:
      return "DEBUG";
    case level::info:
      return "INFO";
    case level::warn:
      return "WARN";
    case level::error:
      return "ERROR";
  }
  return "INFO";
}

void set_level(level l) noexcept { g_level.store(l, std::memory_order_relaxed); }

bool enabled(level l) noexcept { return l >= g_level.load(std::memory_order_relaxed); }

void write(level l, std::string_view message, std::initializer_list<field> fields) {
  std::string line;
  line.reserve(128);
  append_time(line);
  line += ' ';
  line += level_name(l);
  line += ' ';
  line += message;
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, f.value);
  }
  line += '\n';
  the_sink().push(std::move(line), l >= level::warn);
}

void flush() { the_sink().flush(); }

std::uint64_t dropped_lines() noexcept { return the_sink().dropped(); }

}  // namespace reel::log
