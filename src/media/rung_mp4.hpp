// MP4 downloads of an HLS rung, made on demand by remuxing the rung's
// segments (no re-encode): identical concurrent requests share one ffmpeg
// run, and at most `max_running` run at once. Loop thread only.
#pragma once

#include "core/offload.hpp"
#include "media/child.hpp"
#include "media/ffmpeg.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel::media {

// ffmpeg copying the streams of `playlist` (reel's own HLS rung playlist:
// only the hls and mpegts demuxers and local files are allowed) into the
// faststart MP4 `output`.
std::vector<std::string> rung_mp4_command(const paths& tools, const std::string& playlist, const std::string& output);

class rung_mp4_maker {
 public:
  // Called with the finished temporary file and its size to put it at its
  // place (and record it); returns whether it did. Runs on the loop.
  using install_fn = std::function<boost::asio::awaitable<bool>(const std::filesystem::path& tmp, std::uint64_t size)>;

  rung_mp4_maker(boost::asio::io_context& io, worker_pool& pool, paths tools, unsigned max_running,
                 child_limits limits = {})
      : io_(io), pool_(pool), tools_(std::move(tools)), max_running_(std::max(1u, max_running)), limits_(limits) {}

  // Makes `output` from `playlist` unless it exists: ffmpeg writes a
  // temporary file beside it (its folder is created; the folder above must
  // exist), which `install` puts in place. Returns false when ffmpeg failed
  // or `install` declined (the temporary file is then removed). Throws
  // std::system_error when ffmpeg could not be started for want of a
  // resource (the caller answers 503).
  boost::asio::awaitable<bool> make(const std::filesystem::path& playlist, const std::filesystem::path& output,
                                    install_fn install);

  std::uint64_t runs() const noexcept { return runs_; }

 private:
  struct flight {
    bool done = false;
    bool ok = false;
    int start_errno = 0;
    boost::asio::steady_timer finished;
    explicit flight(boost::asio::io_context& io) : finished(io, boost::asio::steady_timer::time_point::max()) {}
  };
  boost::asio::awaitable<bool> join(std::shared_ptr<flight> f);
  boost::asio::awaitable<bool> run(const std::filesystem::path& playlist, const std::filesystem::path& output,
                                   const install_fn& install, int& start_errno);
  boost::asio::awaitable<void> take_slot();
  void free_slot();

  boost::asio::io_context& io_;
  worker_pool& pool_;
  paths tools_;
  unsigned max_running_;
  child_limits limits_;
  unsigned running_ = 0;
  std::uint64_t runs_ = 0;
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
  std::shared_ptr<boost::asio::steady_timer> slot_freed_;
};

}  // namespace reel::media
