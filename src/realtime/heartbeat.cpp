#include "realtime/heartbeat.hpp"

#include <algorithm>

namespace reel::realtime {

heartbeat::heartbeat(boost::asio::io_context& io, std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                     handlers h, std::function<clock::time_point()> now, std::size_t per_turn)
    : interval_(interval),
      timeout_(timeout),
      per_turn_(std::max<std::size_t>(per_turn, 1)),
      handlers_(std::move(h)),
      now_(std::move(now)),
      timer_(io) {}

void heartbeat::start(member& m) {
  stop(m);
  m.awaiting_pong_ = false;
  m.due_ = now_() + interval_;
  awaiting_ping_.push_back(m);
  arm();
}

void heartbeat::pong(member& m) {
  if (!m.awaiting_pong_ || !m.hook_.is_linked()) return;
  start(m);
}

void heartbeat::stop(member& m) {
  if (m.hook_.is_linked()) m.hook_.unlink();
  m.awaiting_pong_ = false;
}

void heartbeat::run_due() {
  const auto now = now_();
  std::size_t budget = per_turn_;
  // Front first, re-read every time: a handler may close other sessions.
  for (; budget > 0 && !awaiting_pong_.empty() && awaiting_pong_.front().due_ <= now; --budget) {
    member& m = awaiting_pong_.front();
    stop(m);
    handlers_.timed_out(m);  // may destroy m
  }
  for (; budget > 0 && !awaiting_ping_.empty() && awaiting_ping_.front().due_ <= now; --budget) {
    member& m = awaiting_ping_.front();
    m.hook_.unlink();
    m.awaiting_pong_ = true;
    m.due_ = now + timeout_;
    awaiting_pong_.push_back(m);
    handlers_.ping(m);  // may close, and so destroy, m
  }
  arm();  // members still due: a deadline already past, so the timer comes back at once
}

void heartbeat::arm() {
  auto next = clock::time_point::max();
  if (!awaiting_ping_.empty()) next = awaiting_ping_.front().due_;
  if (!awaiting_pong_.empty()) next = std::min(next, awaiting_pong_.front().due_);
  // A timer already waiting for an earlier deadline re-arms itself then.
  if (next == clock::time_point::max() || next >= armed_for_) return;
  armed_for_ = next;
  timer_.expires_at(next);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // re-armed, or the heartbeat is being destroyed
    armed_for_ = clock::time_point::max();
    run_due();
  });
}

}  // namespace reel::realtime
