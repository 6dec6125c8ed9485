// Measures event-loop lag: a timer asks to fire every `interval`; how late it
// actually runs is the time the loop was busy with something else. Loop thread only.
#pragma once

#include "http/metrics.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace reel::http {

class loop_monitor {
 public:
  loop_monitor(boost::asio::io_context& io, metrics& m,
               std::chrono::milliseconds interval = std::chrono::milliseconds(100))
      : timer_(io), metrics_(m), interval_(interval) {}
  void start() { arm(); }
  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm() {
    expected_ = std::chrono::steady_clock::now() + interval_;
    timer_.expires_at(expected_);
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopped_) return;
      auto lag = std::chrono::steady_clock::now() - expected_;
      metrics_.observe_loop_lag(std::max(0.0, std::chrono::duration<double>(lag).count()));
      arm();
    });
  }

  boost::asio::steady_timer timer_;
  metrics& metrics_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point expected_;
  bool stopped_ = false;
};

}  // namespace reel::http
