// What the events of docs/API.md "Realtime" say, built in one place for
// every producer (the domain services and the processing workers).
#pragma once

#include "core/events.hpp"
#include "model/videos.hpp"

#include <string>
#include <string_view>

namespace reel::model {

// video:created {video}: a video was added (an upload began or ended).
event video_created(const video& v);
// video:updated {video}: a video's fields or status changed.
event video_updated(const video& v);
// video:deleted {id}
event video_deleted(const std::string& org_id, const std::string& video_id);
// video:progress {id, stage, percent}: percent rounded to a whole number.
event video_progress(const std::string& org_id, const std::string& video_id, std::string_view stage, double percent);
// video:ready {video}
event video_ready(const video& v);
// video:playable {video}: an early rendition plays before the video is ready.
event video_playable(const video& v);
// video:failed {id, error}: processing gave up.
event video_failed(const std::string& org_id, const std::string& video_id, const std::string& reason);

}  // namespace reel::model
