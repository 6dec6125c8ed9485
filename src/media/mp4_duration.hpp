// The duration an MP4 (ISO/IEC 14496-12) file declares in its movie header
// box ('moov' → 'mvhd': duration / timescale), found by walking the boxes
// with a few small reads, however large the file. This is the figure
// ffprobe gives as the format's duration (FFmpeg's mov demuxer takes it from
// 'mvhd'); processing reads it to check the outputs without another ffprobe
// start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>

namespace reel::media {

// Reads up to out.size() bytes at `offset`; returns how many it read (fewer
// only at the end of the data).
using read_at_fn = std::function<std::size_t(std::uint64_t offset, std::span<unsigned char> out)>;

// Seconds, or nullopt when the data has no top-level 'moov' with an 'mvhd'
// in it, a box on the way is malformed (shorter than its header, or past
// its container's end), the header is cut short, the timescale is 0 or the
// duration is unknown (all ones). At most a bounded number of boxes is
// looked at on each level.
std::optional<double> mp4_declared_duration(std::uint64_t size, const read_at_fn& read_at);

// The same for a file. Throws std::system_error when it cannot be opened or
// read.
std::optional<double> mp4_declared_duration(const std::filesystem::path& file);

}  // namespace reel::media
