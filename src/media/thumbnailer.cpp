#include "media/thumbnailer.hpp"

#include "core/async.hpp"
#include "core/ids.hpp"
#include "media/child.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <system_error>

namespace reel::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

int snap_frame_width(int requested) {
  static constexpr int widths[] = {80, 120, 160, 240, 320, 480, 640, 960, 1280, 1920};
  for (int w : widths)
    if (requested <= w) return w;
  return widths[std::size(widths) - 1];
}

double snap_frame_time(double requested, double duration_sec) {
  static constexpr double steps[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600};
  double duration = std::isfinite(duration_sec) && duration_sec > 0 ? duration_sec : 0;
  double step = steps[std::size(steps) - 1];
  for (double s : steps)
    if (duration / s <= 300) {
      step = s;
      break;
    }
  double t = std::isfinite(requested) && requested > 0 ? requested : 0;
  double points = std::round(t / step);
  // The last grid point inside the video (a frame at the very end may not exist).
  double last = std::max(0.0, std::ceil(duration / step) - 1);
  return std::min(points, last) * step;
}

void frame_cache::touch(const std::string& path, std::uint64_t size) {
  if (auto it = index_.find(path); it != index_.end()) {
    order_.splice(order_.begin(), order_, it->second.at);
    bytes_ = bytes_ - it->second.size + size;
    it->second.size = size;
    return;
  }
  order_.push_front(path);
  index_.emplace(path, entry{order_.begin(), size});
  bytes_ += size;
}

void frame_cache::forget(const std::string& path) {
  auto it = index_.find(path);
  if (it == index_.end()) return;
  bytes_ -= it->second.size;
  order_.erase(it->second.at);
  index_.erase(it);
}

std::vector<std::string> frame_cache::overflow() {
  std::vector<std::string> out;
  while (bytes_ > limit_ && order_.size() > 1) {
    std::string victim = order_.back();
    forget(victim);
    out.push_back(std::move(victim));
  }
  return out;
}

asio::awaitable<void> thumbnailer::trim() {
  auto victims = cache_.overflow();
  if (victims.empty()) co_return;
  auto remove_job = [&victims] {
    std::error_code ec;
    for (const auto& v : victims) fs::remove(v, ec);
  };
  co_await pool_.offload(remove_job);
}

asio::awaitable<void> thumbnailer::load(const fs::path& root) {
  struct found {
    std::string path;
    std::uint64_t size;
    fs::file_time_type at;
  };
  auto scan_job = [&root] {
    std::vector<found> out;
    // Only orgs/*/videos/*/thumbs/*.jpg: the HLS segments beside them are
    // never walked. Errors (a video removed meanwhile) just skip a folder.
    auto each = [](const fs::path& dir, auto&& fn) {
      std::error_code ec;
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) fn(it->path());
    };
    each(root / "orgs", [&](const fs::path& org) {
      each(org / "videos", [&](const fs::path& video) {
        each(video / "thumbs", [&](const fs::path& p) {
          if (p.extension() != ".jpg") return;
          std::error_code fec;
          auto size = fs::file_size(p, fec);
          auto at = fs::last_write_time(p, fec);
          if (!fec) out.push_back({p.string(), size, at});
        });
      });
    });
    std::sort(out.begin(), out.end(), [](const found& a, const found& b) { return a.at < b.at; });
    return out;
  };
  auto files = co_await pool_.offload(scan_job);
  for (const auto& f : files) cache_.touch(f.path, f.size);
  co_await trim();
}

asio::awaitable<bool> thumbnailer::make(const fs::path& input, double at_sec, std::optional<int> width,
                                        const fs::path& output, frame_source source) {
  const std::string key = output.string();
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto size_job = [&output]() -> std::optional<std::uint64_t> {
    std::error_code ec;
    auto n = fs::file_size(output, ec);
    return ec ? std::nullopt : std::optional<std::uint64_t>(n);
  };
  if (auto cached = co_await pool_.offload(size_job)) {
    cache_.touch(key, *cached);
    co_return true;
  }
  cache_.forget(key);  // removed with its video, or never made
  // A run may have started while we looked.
  if (auto it = flights_.find(key); it != flights_.end()) co_return co_await join(it->second);
  auto f = std::make_shared<flight>(io_);
  flights_.emplace(key, f);
  bool ok = false;
  int start_errno = 0;
  try {
    ok = co_await render(input, at_sec, width, output, source, start_errno);
  } catch (...) {
    ok = false;
  }
  if (ok) {
    if (auto made = co_await pool_.offload(size_job)) cache_.touch(key, *made);
    co_await trim();
  }
  f->done = true;
  f->ok = ok;
  f->start_errno = start_errno;
  f->finished.cancel();
  flights_.erase(key);
  if (start_errno != 0) throw std::system_error(start_errno, std::generic_category(), "starting ffmpeg for a frame");
  co_return ok;
}

asio::awaitable<bool> thumbnailer::join(std::shared_ptr<flight> f) {
  if (!f->done) co_await f->finished.async_wait(use_tuple);
  if (f->start_errno != 0)
    throw std::system_error(f->start_errno, std::generic_category(), "starting ffmpeg for a frame");
  co_return f->ok;
}

asio::awaitable<bool> thumbnailer::render(const fs::path& input, double at_sec, std::optional<int> width,
                                          const fs::path& output, frame_source source, int& start_errno) {
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
  // The input is always reel's own faststart MP4 or poster: its demuxer is forced.
  auto argv = source == frame_source::still
                  ? still_command(tools_, input.string(), still_format::jpeg, width, tmp.string())
                  : frame_command(tools_, input.string(), "mov", at_sec, width, tmp.string());
  child_process child(io_.get_executor(), limits_);
  auto result = co_await child.run(argv, nullptr, std::chrono::seconds(60));
  start_errno = result.start_errno;
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
