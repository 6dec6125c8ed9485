// Who asks to play a video, as every playback route reads it from a request
// (the stream routes, the embed and share pages): the principal when valid
// credentials were sent (guard::viewer) and the signed link's ?token=.
#pragma once

#include "domain/videos.hpp"
#include "http/message.hpp"

#include <optional>
#include <string>

namespace reel::api {

// The ?token= of a playback link. One that cannot even be decoded (a bad
// escape, %00) is a bad link, not no link: it is refused alike.
std::optional<std::string> playback_token(const http::context& ctx);

// The viewer of `ctx` with `token` (which must outlive the result).
domain::viewer_access viewer_access_of(const http::context& ctx, const std::optional<std::string>& token);

}  // namespace reel::api
