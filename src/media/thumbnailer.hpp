// Frames made on demand (`/api/stream/:id/thumbnail.jpg?time=&width=`):
// cached on disk, identical concurrent requests share one ffmpeg run, and
// at most `max_running` ffmpeg runs at once. Loop thread only.
#pragma once

#include "core/offload.hpp"
#include "media/ffmpeg.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_map>

namespace reel::media {

class thumbnailer {
 public:
  thumbnailer(boost::asio::io_context& io, worker_pool& pool, paths tools, unsigned max_running)
      : io_(io), pool_(pool), tools_(std::move(tools)), max_running_(std::max(1u, max_running)) {}

  // Makes `output` (a frame of `input` at `at_sec`, `width` wide) unless it
  // exists. Returns false when ffmpeg could not make it.
  boost::asio::awaitable<bool> make(const std::filesystem::path& input, double at_sec, std::optional<int> width,
                                    const std::filesystem::path& output);

  std::uint64_t runs() const noexcept { return runs_; }

 private:
  struct flight {
    bool done = false;
    bool ok = false;
    boost::asio::steady_timer finished;
    explicit flight(boost::asio::io_context& io) : finished(io, boost::asio::steady_timer::time_point::max()) {}
  };
  // Waits for a run in flight and returns its outcome.
  boost::asio::awaitable<bool> join(std::shared_ptr<flight> f);
  boost::asio::awaitable<bool> render(const std::filesystem::path& input, double at_sec, std::optional<int> width,
                                      const std::filesystem::path& output);

  boost::asio::io_context& io_;
  worker_pool& pool_;
  paths tools_;
  unsigned max_running_;
  unsigned running_ = 0;
  std::uint64_t runs_ = 0;
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
  std::shared_ptr<boost::asio::steady_timer> slot_freed_;
};

}  // namespace reel::media
