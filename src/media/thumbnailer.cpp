#include "media/thumbnailer.hpp"

#include "core/ids.hpp"
#include "media/child.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace reel::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<bool> thumbnailer::make(const fs::path& input, double at_sec, std::optional<int> width,
                                        const fs::path& output) {
  const std::string key = output.string();
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto exists_job = [&output] { return fs::exists(output); };
  if (co_await pool_.offload(exists_job)) co_return true;
  // A run may have started while we looked.
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto f = std::make_shared<flight>(io_);
  flights_.emplace(key, f);
  bool ok = false;
  try {
    ok = co_await render(input, at_sec, width, output);
  } catch (...) {
    ok = false;
  }
  f->done = true;
  f->ok = ok;
  f->finished.cancel();
  flights_.erase(key);
  co_return ok;
}

asio::awaitable<bool> thumbnailer::join(std::shared_ptr<flight> f) {
  if (!f->done) co_await f->finished.async_wait(use_tuple);
  co_return f->ok;
}

asio::awaitable<bool> thumbnailer::render(const fs::path& input, double at_sec, std::optional<int> width,
                                          const fs::path& output) {
  while (running_ >= max_running_) {
    if (!slot_freed_) slot_freed_ = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
    auto wait_for = slot_freed_;
    co_await wait_for->async_wait(use_tuple);
  }
  ++running_;
  ++runs_;
  struct release {
    thumbnailer* t;
    ~release() {
      --t->running_;
      if (t->slot_freed_) {
        t->slot_freed_->cancel();
        t->slot_freed_.reset();
      }
    }
  } guard{this};
  fs::path tmp = output;
  tmp += ".tmp-" + ids::fast_id() + ".jpg";
  // Only the cache folder: the video's directory must exist (it is not
  // recreated for a video deleted meanwhile).
  auto mkdir_job = [&output] { fs::create_directory(output.parent_path()); };
  co_await pool_.offload(mkdir_job);
  auto argv = frame_command(tools_, input.string(), at_sec, width, tmp.string());
  child_process child(io_.get_executor());
  auto result = co_await child.run(argv, nullptr, std::chrono::seconds(60));
  auto finish_job = [&tmp, &output, ok = result.ok()] {
    std::error_code ec;
    if (ok && fs::exists(tmp) && fs::file_size(tmp, ec) > 0) {
      fs::rename(tmp, output, ec);
      return !ec;
    }
    fs::remove(tmp, ec);
    return false;
  };
  co_return co_await pool_.offload(finish_job);
}

}  // namespace reel::media
