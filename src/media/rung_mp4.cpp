#include "media/rung_mp4.hpp"

#include "core/async.hpp"
#include "core/ids.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <system_error>

namespace reel::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

std::vector<std::string> rung_mp4_command(const paths& tools, const std::string& playlist, const std::string& output) {
  std::vector<std::string> a = ffmpeg_command(tools);
  a.insert(a.end(), {"-protocol_whitelist",
                     "file",
                     "-format_whitelist",
                     "hls,mpegts",
                     "-f",
                     "hls",
                     "-i",
                     playlist,
                     "-map",
                     "0:v:0",
                     "-map",
                     "0:a:0?",
                     "-c",
                     "copy",
                     "-bsf:a",
                     "aac_adtstoasc",
                     "-movflags",
                     "+faststart",
                     "-f",
                     "mp4",
                     output});
  return a;
}

asio::awaitable<bool> rung_mp4_maker::make(const fs::path& playlist, const fs::path& output, install_fn install) {
  const std::string key = output.string();
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto exists_job = [&output] {
    std::error_code ec;
    return fs::is_regular_file(output, ec);
  };
  if (co_await pool_.offload(exists_job)) co_return true;
  // A run may have started while we looked.
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto f = std::make_shared<flight>(io_);
  flights_.emplace(key, f);
  bool ok = false;
  int start_errno = 0;
  try {
    ok = co_await run(playlist, output, install, start_errno);
  } catch (...) {
    ok = false;
  }
  f->done = true;
  f->ok = ok;
  f->start_errno = start_errno;
  f->finished.cancel();
  flights_.erase(key);
  if (start_errno != 0) throw std::system_error(start_errno, std::generic_category(), "starting ffmpeg for a download");
  co_return ok;
}

asio::awaitable<bool> rung_mp4_maker::join(std::shared_ptr<flight> f) {
  if (!f->done) co_await f->finished.async_wait(use_tuple);
  if (f->start_errno != 0)
    throw std::system_error(f->start_errno, std::generic_category(), "starting ffmpeg for a download");
  co_return f->ok;
}

asio::awaitable<void> rung_mp4_maker::take_slot() {
  while (running_ >= max_running_) {
    if (!slot_freed_) slot_freed_ = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
    auto wait_for = slot_freed_;
    co_await wait_for->async_wait(use_tuple);
  }
  ++running_;
  ++runs_;
}

void rung_mp4_maker::free_slot() {
  --running_;
  if (slot_freed_) {
    slot_freed_->cancel();
    slot_freed_.reset();
  }
}

asio::awaitable<bool> rung_mp4_maker::run(const fs::path& playlist, const fs::path& output, const install_fn& install,
                                          int& start_errno) {
  co_await take_slot();
  struct release {
    rung_mp4_maker* m;
    ~release() { m->free_slot(); }
  } guard{this};
  fs::path tmp = output;
  tmp += ".tmp-" + ids::fast_id() + ".mp4";
  // Only the downloads folder: the video's directory must exist (it is not
  // recreated for a video deleted meanwhile).
  auto mkdir_job = [&output] { fs::create_directory(output.parent_path()); };
  co_await pool_.offload(mkdir_job);
  auto argv = rung_mp4_command(tools_, playlist.string(), tmp.string());
  child_process child(io_.get_executor(), limits_);
  auto result = co_await child.run(argv, nullptr, std::chrono::minutes(10));
  start_errno = result.start_errno;
  auto size_job = [&tmp]() -> std::uint64_t {
    std::error_code ec;
    auto n = fs::file_size(tmp, ec);
    return ec ? 0 : n;
  };
  std::uint64_t size = result.ok() ? co_await pool_.offload(size_job) : 0;
  bool installed = false;
  if (size > 0) {
    try {
      installed = co_await install(tmp, size);
    } catch (...) {
      installed = false;
    }
  }
  auto remove_job = [&tmp] {
    std::error_code ec;
    fs::remove(tmp, ec);  // a no-op once installed (renamed)
  };
  co_await pool_.offload(remove_job);
  co_return installed;
}

}  // namespace reel::media
