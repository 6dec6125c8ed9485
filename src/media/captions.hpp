// Caption files (docs/api-captions.md): WebVTT or SRT as uploaded, checked
// and turned into one normalized WebVTT (UTF-8 without BOM, LF line endings,
// cue numbers of SRT dropped, every timestamp hh:mm:ss.ttt, cue settings
// kept); and the language tags captions are filed under. Pure functions of
// their input: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reel::media {

// The largest caption file accepted, in bytes as uploaded.
inline constexpr std::size_t k_max_caption_bytes = 2 * 1024 * 1024;

enum class caption_format { webvtt, srt };

// `bytes` as normalized WebVTT. A UTF-8 BOM and CRLF or CR line endings are
// accepted; lines holding only spaces count as blank. Throws
// error(payload_too_large) past k_max_caption_bytes, and error(bad_request)
// for anything else wrong, its message naming the line when there is one
// ("line 12: bad timestamp '00:01:xx,000'"): invalid UTF-8, a NUL, a missing
// WEBVTT header, a block without a timing line, a bad timestamp, a cue
// ending before it starts, "-->" in a cue's text, no cue at all.
// Normalizing the result again (as WebVTT) gives it back unchanged.
std::string normalize_captions(std::string_view bytes, caption_format format);

// A BCP 47 language tag as captions are filed under it: a primary
// language of 2 or 3 letters and subtags of 1 to 8 letters or digits joined
// by '-', at most 35 characters, in canonical case (language lower case,
// a 4-letter script title case, a 2-letter region upper case, the rest lower
// case: "EN-us" → "en-US", "zh-hant-tw" → "zh-Hant-TW"). nullopt when it
// is not of that form.
std::optional<std::string> canonical_language(std::string_view tag);

// A caption track as an HLS master playlist names it.
struct subtitle_rendition {
  std::string language;  // canonical_language
  std::string name;      // shown in players' menus; '"' becomes '\'', control characters go
  std::string uri;       // the track's media playlist, relative to the master
};

// The master playlist `master` with a SUBTITLES group "subs" of `tracks`
// (one #EXT-X-MEDIA each, before the first #EXT-X-STREAM-INF) that every
// #EXT-X-STREAM-INF names (SUBTITLES="subs"). `master` unchanged when
// `tracks` is empty. Line endings are written as LF.
std::string add_subtitles_to_master(std::string_view master, const std::vector<subtitle_rendition>& tracks);

// A media playlist of one WebVTT segment, `vtt_uri`, lasting
// `duration_sec` (the video's).
std::string subtitles_playlist(std::string_view vtt_uri, double duration_sec);

}  // namespace reel::media
