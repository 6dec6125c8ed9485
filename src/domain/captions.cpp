#include "domain/captions.hpp"

#include "core/errors.hpp"
#include "core/log.hpp"
#include "db/database.hpp"
#include "db/videos.hpp"
#include "domain/permissions.hpp"
#include "storage/blobs.hpp"

namespace reel::domain {

namespace asio = boost::asio;

namespace {

error video_not_found() { return error(errc::not_found, "No such video."); }

}  // namespace

asio::awaitable<std::vector<caption_entry>> captions::list(const viewer_access& a, const std::string& id) {
  std::optional<model::video> v;
  if (storage::is_valid_id(id)) {
    auto find = [&](db::transaction& tx) { return db::find_video_any_org(tx, id); };
    v = co_await c_.db.read(find);
  }
  if (!v) {
    // A bad link is refused alike whether or not the video exists.
    model::video none;
    none.id = id;
    none.organization_id = "";
    videos_.may_play(a, none);
    throw video_not_found();
  }
  if (!videos_.may_play(a, *v)) throw video_not_found();
  co_return co_await list_of(id);
}

asio::awaitable<std::vector<caption_entry>> captions::list_of(const std::string& video_id) {
  auto list = [&](db::transaction& tx) { return db::list_captions(tx, video_id); };
  co_return co_await c_.db.read(list);
}

asio::awaitable<std::string> captions::text(const std::string& video_id, const std::string& language) {
  auto read = [&](db::transaction& tx) { return db::caption_text(tx, video_id, language); };
  auto vtt = co_await c_.db.read(read);
  if (!vtt) throw error(errc::not_found, "The video has no captions in " + language + ".");
  co_return std::move(*vtt);
}

asio::awaitable<captions::saved> captions::add(const model::org_scope& in, const std::string& id,
                                               const caption_upload& file) {
  return save(in, id, file, false);
}

asio::awaitable<captions::saved> captions::replace(const model::org_scope& in, const std::string& id,
                                                   const caption_upload& file) {
  return save(in, id, file, true);
}

asio::awaitable<captions::saved> captions::save(const model::org_scope& in, const std::string& id,
                                                const caption_upload& file, bool may_replace) {
  require(in, action::edit_video);
  // Parsed on the pool (a 2 MiB file takes milliseconds).
  auto parse = [&file] { return media::normalize_captions(file.body, file.format); };
  std::string vtt = co_await c_.pool.offload(parse);
  std::string now = to_iso8601(c_.time.now());
  const std::string& org_id = in.id;
  saved out;
  out.entry = {id, file.language, file.label.value_or(file.language), static_cast<std::int64_t>(vtt.size()), now, now};
  enum class outcome { ok, missing, taken };
  auto replaced = [&](db::transaction& tx) {
    if (!may_replace || !db::replace_caption(tx, out.entry, file.label, vtt)) return false;
    for (auto& e : db::list_captions(tx, id))
      if (e.language == file.language) out.entry = e;
    return true;
  };
  auto write = [&](db::transaction& tx) {
    if (!db::find_video(tx, org_id, id)) return outcome::missing;
    if (replaced(tx)) return outcome::ok;
    // Added; or, on PostgreSQL, added meanwhile by a concurrent PUT that
    // committed first: replaced then (the statement sees its row).
    if (db::insert_caption(tx, out.entry, vtt)) {
      out.created = true;
      return outcome::ok;
    }
    return replaced(tx) ? outcome::ok : outcome::taken;
  };
  auto result = co_await c_.db.write(write);
  if (result == outcome::missing) throw video_not_found();
  if (result == outcome::taken)
    throw error(errc::conflict, "The video has captions in " + file.language + " already; PUT replaces them.");
  log::info("captions saved", {{"video", id}, {"language", file.language}, {"bytes", out.entry.size_bytes}});
  co_return out;
}

asio::awaitable<void> captions::remove(const model::org_scope& in, const std::string& id, const std::string& language) {
  require(in, action::edit_video);
  const std::string& org_id = in.id;
  enum class outcome { ok, no_video, no_captions };
  auto write = [&](db::transaction& tx) {
    if (!db::find_video(tx, org_id, id)) return outcome::no_video;
    return db::delete_caption(tx, id, language) ? outcome::ok : outcome::no_captions;
  };
  auto result = co_await c_.db.write(write);
  if (result == outcome::no_video) throw video_not_found();
  if (result == outcome::no_captions) throw error(errc::not_found, "The video has no captions in " + language + ".");
}

}  // namespace reel::domain
