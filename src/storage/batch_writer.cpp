#include "storage/batch_writer.hpp"

namespace reel::storage {

namespace asio = boost::asio;

batch_writer::batch_writer(worker_pool& pool, asio::any_io_executor loop, write_fn write, std::uint64_t start,
                           std::size_t batch_bytes)
    : job_(pool, std::move(loop)), write_(std::move(write)), written_(start), batch_bytes_(batch_bytes) {
  batch_.reserve(batch_bytes_ + (64 << 10));
}

void batch_writer::hand_over() {
  std::size_t n = batch_.size();
  job_.start([write = &write_, at = written_, bytes = std::move(batch_)] { (*write)(at, bytes); });
  written_ += n;
  batch_ = std::string();
  batch_.reserve(batch_bytes_ + (64 << 10));
}

asio::awaitable<bool> batch_writer::write_if_full() {
  if (batch_.size() < batch_bytes_) co_return false;
  co_await job_.wait();
  hand_over();
  co_return true;
}

asio::awaitable<void> batch_writer::flush() {
  co_await job_.wait();
  if (batch_.empty()) co_return;
  hand_over();
  co_await job_.wait();
}

asio::awaitable<bool> batch_writer::settle() noexcept {
  try {
    co_await job_.wait();
    co_return true;
  } catch (const std::exception&) {
    co_return false;
  }
}

}  // namespace reel::storage
