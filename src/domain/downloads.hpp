// MP4 downloads of a video (docs/api-downloads.md), for whoever may play it
// (videos::playable): the source-sized faststart MP4 that processing made,
// or one HLS rung remuxed into an MP4 on demand and cached in the video's
// directory (downloads/<rung>.mp4, counted in its organization's storage
// usage). Which of them are offered is the organization's setting
// (downloadRenditions, downloadSource). Loop thread; files and database on
// the pool.
#pragma once

#include "domain/videos.hpp"
#include "media/rung_mp4.hpp"
#include "model/accounts.hpp"

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::domain {

inline constexpr std::string_view k_source_download = "source";

// A download offered: "source" or a rung's name, its size, and whether it
// is the one given when none is named.
struct download_offer {
  std::string rendition;
  std::int64_t width = 0, height = 0;
  bool is_default = false;
};

// Whether `name` could name a download: "source" or a rung name (1 to 16
// lower-case letters and digits, like "720p").
bool valid_rendition_name(std::string_view name) noexcept;

// The downloads `org` offers for `v`: its rungs ("highest": the largest
// one; "all": every one, largest first), then "source" when offered. The
// default is the first.
std::vector<download_offer> offered_downloads(const model::organization& org, const model::video& v);

// Which download a request means: `requested` (nullopt: the default).
// error(bad_request) when the video has no rendition of that name,
// error(forbidden) when the organization does not offer it (or nothing).
download_offer choose_download(const model::organization& org, const model::video& v,
                               const std::optional<std::string>& requested);

// A download ready to be sent.
struct prepared_download {
  playback play;
  download_offer offer;
  std::filesystem::path file;
};

class downloads {
 public:
  downloads(video_context c, videos& v, media::rung_mp4_maker& maker) : c_(c), videos_(v), maker_(maker) {}

  // The downloads offered to `a` for the video `id`. Throws as playable().
  boost::asio::awaitable<std::pair<playback, std::vector<download_offer>>> offers(const viewer_access& a,
                                                                                  const std::string& id);

  // The file of the download `requested` (nullopt: the default) of the
  // video `id`, a rung's MP4 made first when it is not cached. Throws as
  // playable() and choose_download(); error(internal) when the MP4 could
  // not be made; std::system_error when ffmpeg could not be started.
  boost::asio::awaitable<prepared_download> prepare(const viewer_access& a, const std::string& id,
                                                    const std::optional<std::string>& requested);

 private:
  boost::asio::awaitable<model::organization> organization_of(const model::video& v);
  // Puts a made MP4 in place and counts it, if the video is still ready
  // with the outputs it was made from.
  boost::asio::awaitable<bool> install(const model::video& v, const std::filesystem::path& tmp,
                                       const std::filesystem::path& output, std::uint64_t size);

  video_context c_;
  videos& videos_;
  media::rung_mp4_maker& maker_;
};

}  // namespace reel::domain
