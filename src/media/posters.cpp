#include "media/posters.hpp"

#include "core/errors.hpp"

#include <chrono>
#include <system_error>

namespace reel::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

asio::awaitable<bool> poster_maker::frame(const fs::path& mp4, double at_sec, const fs::path& output) {
  co_return co_await run(frame_command(tools_, mp4.string(), "mov", at_sec, std::nullopt, output.string()));
}

asio::awaitable<bool> poster_maker::still(const fs::path& input, still_format format, const fs::path& output) {
  co_return co_await run(still_command(tools_, input.string(), format, std::nullopt, output.string()));
}

asio::awaitable<bool> poster_maker::run(const std::vector<std::string>& argv) {
  if (running_ >= max_running_)
    throw error(errc::unavailable, "Too many posters are being made at the moment; try again in a few seconds.",
                std::chrono::seconds(5));
  ++running_;
  struct release {
    unsigned& n;
    ~release() { --n; }
  } guard{running_};
  child_process child(io_.get_executor(), limits_);
  auto result = co_await child.run(argv, nullptr, std::chrono::seconds(60));
  if (result.start_errno != 0)
    throw std::system_error(result.start_errno, std::generic_category(), "starting ffmpeg for a poster");
  co_return result.ok();
}

}  // namespace reel::media
