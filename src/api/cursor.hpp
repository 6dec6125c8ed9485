// The opaque cursor of a page of a video list (GET /api/videos, the public
// organization lists): hex of "<created_at>|<id>" of the last video shown.
#pragma once

#include "model/videos.hpp"

#include <string>

namespace reel::api {

// The opaque cursor of a page of a video list (newest first): where the
// next page starts, after `v`. decode_video_cursor throws
// error(bad_request) for anything encode_video_cursor did not make.
std::string encode_video_cursor(const model::video& v);
model::video_cursor decode_video_cursor(const std::string& text);

}  // namespace reel::api
