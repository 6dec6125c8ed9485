#include "core/async.hpp"

#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>

namespace reel {

namespace asio = boost::asio;

std::string describe(std::exception_ptr e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

void log_failure::operator()(std::exception_ptr e) const {
  if (e) log::error(what_ + " failed", {{"error", describe(e)}});
}

periodic_task::periodic_task(asio::io_context& io, std::string name, std::chrono::milliseconds interval, task t)
    : io_(io), name_(std::move(name)), interval_(interval), task_(std::move(t)), timer_(io) {}

void periodic_task::start() {
  stopped_ = false;
  schedule();
}

void periodic_task::stop() {
  stopped_ = true;
  timer_.cancel();
}

void periodic_task::schedule() {
  if (stopped_) return;
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) return;
    asio::co_spawn(io_, task_(), [this](std::exception_ptr e) {
      if (e) log::warn(name_ + " failed", {{"error", describe(e)}});
      schedule();
    });
  });
}

}  // namespace reel
