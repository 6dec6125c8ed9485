// A failed ffprobe/ffmpeg run told in words for the uploader (the video's
// `error`, the `video:failed` event): never a server path or ffmpeg's own
// output, which belong in the log. Pure function.
#pragma once

#include "media/child.hpp"

#include <string>
#include <string_view>

namespace reel::media {

enum class step { probe, poster, transcode };

// Whose fault a failure is, which decides what the job does next:
//  - permanent: the file's (not a video, truncated, past a limit): it fails
//    at once, no retries;
//  - resource: the server's (disk full, out of descriptors, an I/O error,
//    a child that cannot be started): retried later on a longer schedule,
//    not counted against the attempts, so it succeeds once the resource is back;
//  - transient: anything else; counted, retried with backoff.
enum class failure_kind { transient, permanent, resource };

struct failure {
  std::string message;  // one sentence
  failure_kind kind = failure_kind::transient;
};

// Reads the run's outcome (exit, signal, timeout, the tail of stderr) into a
// sentence: not a video, a playlist, truncated, an unsupported codec, too
// big for the memory limit, too long, no space left, ... Unrecognized
// failures of the poster or the transcode are transient (retried); of the
// probe, permanent.
// `files_dir` (the directory of the files the run was given) is taken out of
// stderr before it is read: a server path may contain any word.
failure explain_failure(step s, const child_result& r, std::string_view files_dir = {});

// Whether an errno (of a storage write, a std::system_error's code) means
// the server is out of a resource: ENOSPC, EDQUOT, EMFILE, ENFILE, EIO.
bool is_resource_errno(int e);
// The words for a storage operation that failed with such an errno.
std::string resource_failure_message(int e);

}  // namespace reel::media
