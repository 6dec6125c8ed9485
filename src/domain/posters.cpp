#include "domain/posters.hpp"

#include "core/errors.hpp"
#include "core/ids.hpp"
#include "db/downloads.hpp"
#include "db/quotas.hpp"
#include "db/videos.hpp"
#include "domain/permissions.hpp"
#include "model/events.hpp"
#include "storage/blobs.hpp"

#include <algorithm>
#include <cstdio>

namespace reel::domain {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// A temporary name beside `file` in its directory.
fs::path temporary(const fs::path& dir, const char* file) {
  return dir / (std::string(file) + ".tmp-" + ids::fast_id());
}

// The size of `p`, 0 when it does not exist.
std::int64_t size_of(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

// Whether `p` is a file with something in it (ffmpeg may exit 0 having written nothing).
bool made(const fs::path& p) { return size_of(p) > 0; }

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

asio::awaitable<model::video> posters::editable(const model::org_scope& in, const std::string& id) {
  require(in, action::edit_video);
  const std::string& org_id = in.id;
  auto v = co_await c_.db.read([&](db::transaction& tx) { return db::find_video(tx, org_id, id); });
  if (!v) throw error(errc::not_found, "No such video.");
  if (v->status != model::video_status::ready || !v->ready_at)
    throw error(errc::conflict, "The video is not ready; its poster can be chosen once it is processed.");
  co_return std::move(*v);
}

asio::awaitable<fs::path> posters::render_frame(const model::video& v, double at_sec) {
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  fs::path out = temporary(dir, k_poster_file);
  double seek = media::poster_seek(at_sec, v.duration_sec.value_or(0));
  bool ok = co_await maker_.frame(dir / "video.mp4", seek, out);
  auto check = [&out, ok] {
    if (ok && made(out)) return true;
    remove_quietly(out);
    return false;
  };
  if (!co_await c_.pool.offload(check)) throw error(errc::internal, "The frame could not be taken from the video.");
  co_return out;
}

asio::awaitable<model::video> posters::choose_frame(const model::org_scope& in, const std::string& id, double at_sec) {
  auto v = co_await editable(in, id);
  double duration = v.duration_sec.value_or(0);
  if (!(at_sec >= 0) || !(at_sec <= duration)) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%.3f", duration);
    throw error(errc::bad_request,
                std::string("The field \"time\" must be from 0 to the video's duration (") + shown + " s).");
  }
  auto poster = co_await render_frame(v, at_sec);
  co_return co_await install(v, choice{at_sec, false}, poster, std::nullopt);
}

asio::awaitable<model::video> posters::upload_image(const model::org_scope& in, const std::string& id,
                                                    const std::string& bytes) {
  auto format = media::sniff_still(bytes);
  if (!format) throw error(errc::bad_request, "The poster must be a JPEG or PNG image.");
  if (bytes.size() > k_max_poster_upload_bytes) throw error(errc::payload_too_large, "A poster is at most 5 MiB.");
  auto v = co_await editable(in, id);
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  fs::path upload = c_.files.scratch() / ("poster-upload-" + ids::fast_id());
  auto save = [&] {
    c_.files.space().check(bytes.size() * 2);  // 507 when the volume is full (down to the reserve)
    storage::write_file_atomic(upload, bytes);
  };
  co_await c_.pool.offload(save);
  fs::path image = temporary(dir, k_poster_image_file);
  bool ok = false;
  std::exception_ptr failed;
  try {
    ok = co_await maker_.still(upload, *format, image);
  } catch (...) {
    failed = std::current_exception();
  }
  fs::path poster = temporary(dir, k_poster_file);
  auto finish = [&upload, &image, &poster, ok] {
    remove_quietly(upload);
    if (ok && made(image)) {
      fs::copy_file(image, poster);  // served as the poster; the image is kept for reprocessing
      return true;
    }
    remove_quietly(image);
    return false;
  };
  bool decoded = co_await c_.pool.offload(finish);
  if (failed) std::rethrow_exception(failed);
  if (!decoded) throw error(errc::bad_request, "The image could not be decoded (a damaged or too large JPEG or PNG?).");
  co_return co_await install(v, choice{std::nullopt, true}, poster, image);
}

asio::awaitable<model::video> posters::reset(const model::org_scope& in, const std::string& id) {
  auto v = co_await editable(in, id);
  double duration = v.duration_sec.value_or(0);
  auto poster = co_await render_frame(v, std::min(5.0, duration * 0.1));
  co_return co_await install(v, choice{}, poster, std::nullopt);
}

asio::awaitable<model::video> posters::install(const model::video& v, const choice& c, const fs::path& poster,
                                               const std::optional<fs::path>& image) {
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  const std::string& ready_at = *v.ready_at;
  std::string now = to_iso8601(c_.time.now());
  auto record = [&](db::transaction& tx) -> std::optional<model::video> {
    // The row stays locked while the files change: a reprocess (which
    // replaces the poster) or a delete comes before or after, never between.
    if (!db::lock_ready_video(tx, v.id, ready_at)) return std::nullopt;
    fs::path served = dir / k_poster_file, kept = dir / k_poster_image_file;
    std::int64_t before = size_of(served) + size_of(kept);
    if (image)
      fs::rename(*image, kept);  // throws: the transaction rolls back
    else
      remove_quietly(kept);
    fs::rename(poster, served);
    std::int64_t delta = size_of(served) + size_of(kept) - before;
    db::add_video_outputs_bytes(tx, v.id, delta);
    db::adjust_storage(tx, v.organization_id, delta);
    db::set_video_poster(tx, v.id, c.time, c.image, now);
    return db::find_video_any_org(tx, v.id);
  };
  std::optional<model::video> updated;
  std::exception_ptr failed;
  try {
    updated = co_await c_.db.write(record);
  } catch (...) {
    failed = std::current_exception();
  }
  auto cleanup = [&poster, &image] {
    remove_quietly(poster);  // no-ops once renamed
    if (image) remove_quietly(*image);
  };
  co_await c_.pool.offload(cleanup);
  if (failed) std::rethrow_exception(failed);
  if (!updated) throw error(errc::conflict, "The video changed meanwhile (reprocessed or deleted); try again.");
  if (on_video_changed) on_video_changed(v.id);
  c_.hub.publish(model::video_updated(*updated));
  co_return std::move(*updated);
}

}  // namespace reel::domain
