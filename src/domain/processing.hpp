// When a video is (re)processed: the processing job is made here and only
// here, in the transaction that makes the video `queued`.
#pragma once

#include "model/videos.hpp"

#include <string>

namespace reel::db {
class transaction;
}

namespace reel::domain {

// Adds the job that processes `v` (to run at `now`, with up to
// `max_attempts` attempts) in the caller's transaction.
void enqueue_processing(db::transaction& tx, const model::video& v, const std::string& now, int max_attempts);

}  // namespace reel::domain
