// Frames made on demand (`/api/stream/:id/thumbnail.jpg?time=&width=`):
// cached on disk, identical concurrent requests share one ffmpeg run, and
// at most `max_running` ffmpeg runs at once. Loop thread only.
#pragma once

#include "core/offload.hpp"
#include "media/child.hpp"
#include "media/ffmpeg.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace reel::media {

// Frames are made only at a fixed set of widths and times, so that the
// number of files one video can have cached is small whatever a client asks
// for. The width asked for is rounded up to the next of 80, 120, 160, 240,
// 320, 480, 640, 960, 1280, 1920 (the largest for anything above).
int snap_frame_width(int requested);
// The time asked for, clamped to [0, duration) and rounded to a grid whose
// step (0.1 s to 1 h) gives at most 300 points over the duration.
double snap_frame_time(double requested, double duration_sec);

// Which cached frames to keep: least recently used go first once the files
// together pass the limit. Loop thread only; the files are removed by the caller.
class frame_cache {
 public:
  explicit frame_cache(std::uint64_t limit_bytes) : limit_(limit_bytes) {}
  // Records that `path` (of `size` bytes) was made or used now.
  void touch(const std::string& path, std::uint64_t size);
  // Forgets a file that is gone.
  void forget(const std::string& path);
  // The files to remove to come back under the limit (the most recent one
  // always stays), already forgotten.
  std::vector<std::string> overflow();
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::size_t files() const noexcept { return order_.size(); }

 private:
  struct entry {
    std::list<std::string>::iterator at;
    std::uint64_t size;
  };
  std::uint64_t limit_;
  std::uint64_t bytes_ = 0;
  std::list<std::string> order_;  // most recent first
  std::unordered_map<std::string, entry> index_;
};

// What a frame is made from: reel's faststart MP4 (a frame at a time), or
// a JPEG still (the poster, scaled).
enum class frame_source { video, still };

class thumbnailer {
 public:
  thumbnailer(boost::asio::io_context& io, worker_pool& pool, paths tools, unsigned max_running,
              std::uint64_t cache_bytes = 256ULL << 20, child_limits limits = {})
      : io_(io),
        pool_(pool),
        tools_(std::move(tools)),
        max_running_(std::max(1u, max_running)),
        limits_(limits),
        cache_(cache_bytes) {}

  // Makes `output` (a frame of `input` at `at_sec`, `width` wide; of a
  // still `input`: the image, `width` wide at most) unless it exists. Returns false when ffmpeg could not make it;
  // throws std::system_error when ffmpeg could not even be started for want of a resource (out of descriptors or
  // processes: the caller answers 503).
  boost::asio::awaitable<bool> make(const std::filesystem::path& input, double at_sec, std::optional<int> width,
                                    const std::filesystem::path& output, frame_source source = frame_source::video);

  // Learns the frames already cached in the data directory `root`
  // (`orgs/*/videos/*/thumbs/*.jpg`, as left by an earlier run), oldest
  // first, and trims to the limit.
  boost::asio::awaitable<void> load(const std::filesystem::path& root);

  std::uint64_t runs() const noexcept { return runs_; }
  std::uint64_t cached_bytes() const noexcept { return cache_.bytes(); }

 private:
  struct flight {
    bool done = false;
    bool ok = false;
    int start_errno = 0;  // ffmpeg could not be started (see make)
    boost::asio::steady_timer finished;
    explicit flight(boost::asio::io_context& io) : finished(io, boost::asio::steady_timer::time_point::max()) {}
  };
  // Waits for a run in flight and returns its outcome.
  boost::asio::awaitable<bool> join(std::shared_ptr<flight> f);
  // `start_errno`: set when ffmpeg could not be started (child_result::start_errno).
  boost::asio::awaitable<bool> render(const std::filesystem::path& input, double at_sec, std::optional<int> width,
                                      const std::filesystem::path& output, frame_source source, int& start_errno);

  boost::asio::io_context& io_;
  worker_pool& pool_;
  paths tools_;
  unsigned max_running_;
  child_limits limits_;
  unsigned running_ = 0;
  std::uint64_t runs_ = 0;
  std::unordered_map<std::string, std::shared_ptr<flight>> flights_;
  std::shared_ptr<boost::asio::steady_timer> slot_freed_;
  frame_cache cache_;
  // Removes what the cache no longer keeps.
  boost::asio::awaitable<void> trim();
};

}  // namespace reel::media
