// The ffmpeg runs of a chosen poster (PUT /api/videos/:id/poster): a frame
// of reel's faststart MP4, or an uploaded image decoded and written again
// as a JPEG. At most `max_running` at once per process; beyond that a
// request is refused (503) rather than queued, since a poster is chosen
// by hand and rarely. Loop thread only.
#pragma once

#include "media/child.hpp"
#include "media/ffmpeg.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace reel::media {

class poster_maker {
 public:
  poster_maker(boost::asio::io_context& io, paths tools, unsigned max_running, child_limits limits = {})
      : io_(io), tools_(std::move(tools)), max_running_(std::max(1u, max_running)), limits_(limits) {}

  // Writes into `output` a frame of the MP4 `mp4` at `at_sec` (at most 1280
  // pixels wide, like the automatic poster). Returns whether ffmpeg
  // succeeded. Throws error(unavailable) when `max_running` runs are going
  // on, std::system_error when ffmpeg could not be started for want of a
  // resource.
  boost::asio::awaitable<bool> frame(const std::filesystem::path& mp4, double at_sec,
                                     const std::filesystem::path& output);
  // Writes into `output` the image `input` (of `format`) as a JPEG (see
  // still_command). Returns false when it could not be decoded. Throws as frame().
  boost::asio::awaitable<bool> still(const std::filesystem::path& input, still_format format,
                                     const std::filesystem::path& output);

  unsigned running() const noexcept { return running_; }

 private:
  boost::asio::awaitable<bool> run(const std::vector<std::string>& argv);

  boost::asio::io_context& io_;
  paths tools_;
  unsigned max_running_;
  child_limits limits_;
  unsigned running_ = 0;
};

}  // namespace reel::media
