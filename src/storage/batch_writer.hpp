// Bytes arriving from a socket, written to a file in batches on the thread
// pool while the next batch is read: the loop never blocks on the disk, and
// the disk and the network work at the same time. Used by every upload path
// (multipart or raw POST, tus PATCH). Loop thread only.
#pragma once

#include "core/offload.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace reel::storage {

class batch_writer {
 public:
  // Writes `bytes` at `offset` of the file; runs on the pool, one call at a
  // time, in order. May also digest the bytes.
  using write_fn = std::function<void(std::uint64_t offset, std::string_view bytes)>;

  // `start`: the file offset of the first byte appended.
  batch_writer(worker_pool& pool, boost::asio::any_io_executor loop, write_fn write, std::uint64_t start = 0,
               std::size_t batch_bytes = k_default_batch_bytes);

  // 1 MiB: a batch small enough to be written while its bytes are still in
  // the CPU's cache, large enough for few hand-overs; two batches per upload
  // at most (one filling, one being written). On the 2-core machine of
  // bench/upload.sh (1 MiB of L2 per core), 256 MiB raw uploads ingested
  // about 230 MiB/s with 4 MiB batches and about 700 MiB/s with 1 MiB or
  // 512 KiB ones, using a third of the CPU time.
  static constexpr std::size_t k_default_batch_bytes = 1 << 20;

  // Buffers `bytes` (a synchronous producer, e.g. a multipart parser, calls
  // this; then write_if_full()).
  void buffer(std::string_view bytes);
  // The free space at the end of the batch being filled, to read into
  // directly (never empty); commit() then says how much was read.
  boost::asio::mutable_buffer room();
  // Counts `n` bytes read into room() as buffered.
  void commit(std::size_t n) noexcept { filling_->size += n; }
  // When a full batch is buffered, hands it to the pool (waiting first for
  // the one in flight, and rethrowing its failure) and returns true.
  boost::asio::awaitable<bool> write_if_full();
  // buffer() then write_if_full().
  boost::asio::awaitable<bool> append(std::string_view bytes) {
    buffer(bytes);
    return write_if_full();
  }
  // Writes what is buffered and waits until every byte is written.
  boost::asio::awaitable<void> flush();
  // Waits for the write in flight, if any, and swallows its failure (the
  // caller is failing already); true when it succeeded. Await this on every
  // failure path before the file goes away.
  boost::asio::awaitable<bool> settle() noexcept;

  // The file offset after every byte handed to the pool (written once flush() returns).
  std::uint64_t written() const noexcept { return written_; }
  // Bytes buffered and not yet handed over.
  std::size_t buffered() const noexcept { return filling_->size; }
  // Forgets the buffered bytes (a failed body discards them).
  void drop_buffered() noexcept { filling_->size = 0; }

 private:
  // A batch's memory, reused: the one being written comes back for filling.
  struct block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
    std::size_t capacity = 0;
    void reserve(std::size_t n);
  };
  void hand_over();

  background_job job_;
  write_fn write_;
  std::uint64_t written_;
  std::size_t batch_bytes_;
  std::shared_ptr<block> filling_;
  std::shared_ptr<block> spare_;  // the batch last handed over (in flight until job_ is idle)
};

}  // namespace reel::storage
