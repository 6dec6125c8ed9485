// Rewriting HLS playlists (RFC 8216) for a signed playback link: every URI
// a player will fetch (the variant playlists of a master, the segments of
// a variant, URI="..." attributes of tags such as EXT-X-MEDIA or EXT-X-MAP)
// gets the link's query parameter, so that hls.js and Safari play with no
// extra headers.
#pragma once

#include <string>
#include <string_view>

namespace reel::media {

// `playlist` with `parameter` ("token=...": already URL-safe) added to the
// query of every URI in it. Lines keep their endings (LF or CRLF); comments
// and tags without URI attributes are unchanged. Bounded work: linear in
// the input.
std::string add_query_to_playlist(std::string_view playlist, std::string_view parameter);

// Appends `uri` to `out` with `parameter` added to its query ('?' or '&' as
// needed), before any '#' fragment, which stays last. Shared by the
// playlist and storyboard (WebVTT) rewriters.
void append_query_parameter(std::string& out, std::string_view uri, std::string_view parameter);

}  // namespace reel::media
