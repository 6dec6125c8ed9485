#include "domain/downloads.hpp"

#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/downloads.hpp"
#include "db/quotas.hpp"
#include "storage/blobs.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

namespace reel::domain {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// The video's rungs (its renditions JSON), largest first.
std::vector<download_offer> rungs_of(const model::video& v) {
  std::vector<download_offer> out;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(v.renditions, ec);
  if (ec || !parsed.is_array()) return out;
  for (const auto& item : parsed.as_array()) {
    const auto* o = item.if_object();
    if (!o) continue;
    const auto* name = o->if_contains("name");
    const auto* w = o->if_contains("width");
    const auto* h = o->if_contains("height");
    if (!name || !name->is_string() || !w || !w->is_int64() || !h || !h->is_int64()) continue;
    std::string n(name->as_string());
    if (!valid_rendition_name(n) || n == k_source_download) continue;
    out.push_back({std::move(n), w->as_int64(), h->as_int64(), false});
  }
  std::stable_sort(out.begin(), out.end(), [](const download_offer& a, const download_offer& b) {
    return a.width * a.height > b.width * b.height;
  });
  return out;
}

}  // namespace

bool valid_rendition_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 16) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::vector<download_offer> offered_downloads(const model::organization& org, const model::video& v) {
  std::vector<download_offer> out;
  auto rungs = rungs_of(v);
  if (org.download_renditions == "all")
    out = rungs;
  else if (org.download_renditions == "highest" && !rungs.empty())
    out.push_back(rungs.front());
  if (org.download_source)
    out.push_back({std::string(k_source_download), v.width.value_or(0), v.height.value_or(0), false});
  if (!out.empty()) out.front().is_default = true;
  return out;
}

download_offer choose_download(const model::organization& org, const model::video& v,
                               const std::optional<std::string>& requested) {
  auto offers = offered_downloads(org, v);
  if (!requested) {
    if (offers.empty()) throw error(errc::forbidden, "This organization does not offer downloads of its videos.");
    return offers.front();
  }
  auto rungs = rungs_of(v);
  bool known = *requested == k_source_download || std::any_of(rungs.begin(), rungs.end(), [&](const download_offer& r) {
    return r.rendition == *requested;
  });
  if (!known)
    throw error(errc::bad_request, "The video has no rendition \"" + *requested +
                                       "\": ask for \"source\" or one of the video's renditions (like 720p).");
  auto it =
      std::find_if(offers.begin(), offers.end(), [&](const download_offer& o) { return o.rendition == *requested; });
  if (it == offers.end())
    throw error(errc::forbidden, "This organization does not offer the download \"" + *requested + "\".");
  return *it;
}

asio::awaitable<model::organization> downloads::organization_of(const model::video& v) {
  const std::string& org_id = v.organization_id;
  auto find = [&org_id](db::transaction& tx) { return db::find_organization(tx, org_id); };
  auto org = co_await c_.db.read(find);
  if (!org) throw error(errc::not_found, "No such video.");
  co_return std::move(*org);
}

asio::awaitable<std::pair<playback, std::vector<download_offer>>> downloads::offers(const viewer_access& a,
                                                                                    const std::string& id) {
  auto play = co_await videos_.playable(a, id);
  auto org = co_await organization_of(play.video);
  auto offers = offered_downloads(org, play.video);
  co_return std::pair{std::move(play), std::move(offers)};
}

asio::awaitable<prepared_download> downloads::prepare(const viewer_access& a, const std::string& id,
                                                      const std::optional<std::string>& requested) {
  auto play = co_await videos_.playable(a, id);
  auto org = co_await organization_of(play.video);
  download_offer offer = choose_download(org, play.video, requested);
  const model::video& v = play.video;
  auto dir = c_.files.video_dir(v.organization_id, v.id);
  if (offer.rendition == k_source_download) co_return prepared_download{std::move(play), offer, dir / "video.mp4"};
  auto output = dir / "downloads" / (offer.rendition + ".mp4");
  auto playlist = dir / "hls" / offer.rendition / "index.m3u8";
  auto put_in_place = [this, &v, &output](const fs::path& tmp, std::uint64_t size) {
    return install(v, tmp, output, size);
  };
  bool made = co_await maker_.make(playlist, output, put_in_place);
  if (!made) {
    // Deleted or reprocessed while the MP4 was being made: answer as if asked now.
    co_await videos_.playable(a, id);  // 404 or 409 when so
    auto room = [&space = c_.files.space()] { space.check(0); };
    co_await c_.pool.offload(room);  // 507 when the volume is full (down to the reserve)
    throw error(errc::internal, "The download could not be made.");
  }
  co_return prepared_download{std::move(play), offer, output};
}

asio::awaitable<bool> downloads::install(const model::video& v, const fs::path& tmp, const fs::path& output,
                                         std::uint64_t size) {
  if (!v.ready_at) co_return false;
  const std::string& ready_at = *v.ready_at;
  auto record = [&](db::transaction& tx) {
    // The row stays locked while the file is put in place: a reprocess
    // (which removes downloads/ when it stores new outputs) or a delete
    // comes before or after, never between.
    if (!db::lock_ready_video(tx, v.id, ready_at)) return false;
    std::error_code ec;
    if (fs::is_regular_file(output, ec)) return true;  // made meanwhile by another node: counted there
    auto bytes = static_cast<std::int64_t>(size);
    db::add_video_outputs_bytes(tx, v.id, bytes);
    db::adjust_storage(tx, v.organization_id, bytes);
    fs::rename(tmp, output);  // throws: the transaction rolls back
    return true;
  };
  co_return co_await c_.db.write(record);
}

}  // namespace reel::domain
