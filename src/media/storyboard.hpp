// Storyboards: the small pictures a player shows over its seek bar. The
// transcode makes them in its one decode (a branch of its filter graph) as
// JPEG sprite sheets of tiles, one tile every `interval_sec`; a WebVTT file
// names, for each stretch of time, the sheet and the tile's rectangle
// (`storyboard/sprite-001.jpg#xywh=x,y,w,h`). Pure functions, no I/O.
#pragma once

#include "media/ffmpeg.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::media {

struct storyboard_plan {
  int interval_sec = 2;  // one tile for every this many seconds
  int tile_width = 160, tile_height = 90;
  int columns = 1, rows = 1;  // tiles a sheet holds (the last sheet is padded)
  int tiles = 1;              // tiles in all: ceil(duration / interval), at least 1
  int sheets() const noexcept { return (tiles + columns * rows - 1) / (columns * rows); }
  int sheet_width() const noexcept { return columns * tile_width; }
  int sheet_height() const noexcept { return rows * tile_height; }
};

// The storyboard of a probed source. The interval is duration / 100
// rounded, clamped to 2..10 s (up to 100 tiles for videos up to 1000 s, one
// every 10 s beyond). Tiles are 160 px wide with the displayed aspect ratio
// (rotation applied, heights even, at least 2); a picture taller than 2:1
// portrait is fitted into 160×320 instead. Sheets hold up to 10×10 tiles:
// fewer columns and rows when there are fewer tiles.
storyboard_plan plan_storyboard(const probe_result& p);

// The filter chain of the storyboard branch of the transcode: the end is
// padded with the last picture for two intervals (so a tile exists for
// every interval, even the last short one, and for a video stream up to 1.5
// intervals shorter than the probed duration), one frame every interval,
// scaled to the tile, cut to exactly `tiles` frames. The transcode writes
// them as one MJPEG stream (k_storyboard_tiles); sheets_command tiles them.
// (Tiling in the transcode itself would hold back every output until the
// first sheet is full: ffmpeg writes nothing, progress included, until each
// output has its first frame, and queues the rest in memory meanwhile.)
std::string storyboard_filter(const storyboard_plan& plan);

// The ffmpeg run that turns the tiles the transcode wrote into the sheets
// (`storyboard_dir`/sprite-NNN.jpg): it decodes only the small JPEG tiles,
// not the video again. Local files only.
std::vector<std::string> sheets_command(const paths& tools, const storyboard_plan& plan,
                                        const std::string& storyboard_dir);

// The directory (in the work and in the video's directory) and the names.
inline constexpr std::string_view k_storyboard_dir = "storyboard";
inline constexpr std::string_view k_storyboard_vtt = "storyboard.vtt";
inline constexpr std::string_view k_storyboard_tiles = "tiles.mjpeg";  // in the work only
// "sprite-001.jpg" for sheet 1 (sheets count from 1, as ffmpeg's image2 does).
std::string sprite_name(int sheet);
// The sheet number of a sprite name ("sprite-001.jpg" → 1): exactly
// "sprite-" three or four digits ".jpg", from 1; nullopt for anything else.
std::optional<int> parse_sprite_name(std::string_view name);

// The WebVTT of the storyboard of a video of `duration_sec` whose
// transcode wrote `sheets_written` sheets: cue i from i × interval to the
// next (the last to the duration), contiguous from 0; cues on sheets that
// were not written are left out. Sprite URIs are relative to
// /api/stream/:id/storyboard.vtt ("storyboard/sprite-001.jpg#xywh=...").
std::string storyboard_vtt(const storyboard_plan& plan, double duration_sec, int sheets_written);

// A WebVTT as served with a signed link: every cue's payload URI gets
// `parameter` ("token=...", URL-safe) in its query, before any fragment.
// Linear in the input; other lines are unchanged.
std::string add_query_to_storyboard(std::string_view vtt, std::string_view parameter);

}  // namespace reel::media
