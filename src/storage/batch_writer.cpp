#include "storage/batch_writer.hpp"

#include <algorithm>
#include <cstring>

namespace reel::storage {

namespace asio = boost::asio;

void batch_writer::block::reserve(std::size_t n) {
  if (n <= capacity) return;
  auto bigger = std::make_unique_for_overwrite<char[]>(n);
  if (size > 0) std::memcpy(bigger.get(), data.get(), size);
  data = std::move(bigger);
  capacity = n;
}

batch_writer::batch_writer(worker_pool& pool, asio::any_io_executor loop, write_fn write, std::uint64_t start,
                           std::size_t batch_bytes)
    : job_(pool, std::move(loop)),
      write_(std::move(write)),
      written_(start),
      batch_bytes_(batch_bytes),
      filling_(std::make_shared<block>()) {
  filling_->reserve(batch_bytes_);
}

void batch_writer::buffer(std::string_view bytes) {
  block& b = *filling_;
  if (b.size + bytes.size() > b.capacity) b.reserve(std::max(b.size + bytes.size(), b.capacity * 2));
  if (!bytes.empty()) std::memcpy(b.data.get() + b.size, bytes.data(), bytes.size());
  b.size += bytes.size();
}

asio::mutable_buffer batch_writer::room() {
  block& b = *filling_;
  if (b.size >= b.capacity) b.reserve(std::max(batch_bytes_, b.capacity * 2));
  std::size_t free = std::max(batch_bytes_, b.size + 1) - b.size;
  return {b.data.get() + b.size, std::min(free, b.capacity - b.size)};
}

void batch_writer::hand_over() {
  // Requires !job_.busy(): the spare block is no longer being written.
  std::shared_ptr<block> full = std::move(filling_);
  std::size_t n = full->size;
  job_.start([write = &write_, at = written_, full] { (*write)(at, std::string_view(full->data.get(), full->size)); });
  written_ += n;
  filling_ = spare_ ? std::move(spare_) : std::make_shared<block>();
  filling_->size = 0;
  filling_->reserve(batch_bytes_);
  spare_ = std::move(full);
}

asio::awaitable<bool> batch_writer::write_if_full() {
  if (filling_->size < batch_bytes_) co_return false;
  co_await job_.wait();
  hand_over();
  co_return true;
}

asio::awaitable<void> batch_writer::flush() {
  co_await job_.wait();
  if (filling_->size == 0) co_return;
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
