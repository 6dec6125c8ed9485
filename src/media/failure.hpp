// A failed ffprobe/ffmpeg run told in words for the uploader (the video's
// `error`, the `video:failed` event): never a server path or ffmpeg's own
// output, which belong in the log. Pure function.
#pragma once

#include "media/child.hpp"

#include <string>
#include <string_view>

namespace reel::media {

enum class step { probe, poster, transcode };

struct failure {
  std::string message;     // one sentence
  bool permanent = false;  // the file's fault (or past a limit): retrying cannot help
};

// Reads the run's outcome (exit, signal, timeout, the tail of stderr) into a
// sentence: not a video, a playlist, truncated, an unsupported codec, too
// big for the memory limit, too long, ... Unrecognized failures of the
// poster or the transcode are transient (retried); of the probe, permanent.
// `files_dir` (the directory of the files the run was given) is taken out of
// stderr before it is read: a server path may contain any word.
failure explain_failure(step s, const child_result& r, std::string_view files_dir = {});

}  // namespace reel::media
