#include "media/failure.hpp"

#include "media/ffmpeg.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <initializer_list>
#include <string_view>

namespace reel::media {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool has_any(const std::string& text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&text](std::string_view n) { return text.find(n) != std::string::npos; });
}

// The demuxer ffmpeg refused for not being on the whitelist: its log line
// reads "[hls @ 0x55d…] Format not on whitelist '…'".
std::string refused_demuxer(std::string_view stderr_tail) {
  auto at = stderr_tail.find("Format not on whitelist");
  if (at == std::string_view::npos) return {};
  auto line_start = stderr_tail.rfind('\n', at);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string_view line = stderr_tail.substr(line_start, at - line_start);
  if (!line.starts_with("[")) return {};
  auto end = line.find(" @ ");
  return end == std::string_view::npos ? std::string() : std::string(line.substr(1, end - 1));
}

}  // namespace

bool is_resource_errno(int e) { return e == ENOSPC || e == EDQUOT || e == EMFILE || e == ENFILE || e == EIO; }

std::string resource_failure_message(int e) {
  if (e == ENOSPC || e == EDQUOT) return "The server ran out of disk space while processing the video.";
  if (e == EMFILE || e == ENFILE) return "The server ran out of open files while processing the video.";
  return "The server's storage failed while processing the video.";
}

failure explain_failure(step s, const child_result& r, std::string_view files_dir) {
  using enum failure_kind;
  // fork/exec failing (out of processes, descriptors or memory): the server's state, not the file's.
  if (!r.start_error.empty()) return {"The video processor could not be started.", resource};
  // A run that outlived its time is stopped, and not tried again: the time
  // allowed is generous, so the file is what takes too long.
  if (r.timed_out) return {"Processing took too long and was stopped.", permanent};
  if (r.signal == SIGXCPU) return {"Processing used more computing time than allowed and was stopped.", permanent};
  // Not reel's kill: the kernel's, out of memory.
  if (r.signal == SIGKILL && !r.killed) return {"The server ran out of memory while processing the video.", transient};

  std::string tail = r.stderr_tail;
  if (!files_dir.empty())
    for (auto at = tail.find(files_dir); at != std::string::npos; at = tail.find(files_dir, at))
      tail.erase(at, files_dir.size());
  const std::string text = lower(tail);
  // The server's resources first: a full disk also makes ffmpeg's output end early.
  if (has_any(text, {"no space left on device", "disk quota exceeded"}))
    return {resource_failure_message(ENOSPC), resource};
  if (has_any(text, {"too many open files"})) return {resource_failure_message(EMFILE), resource};
  if (text.find("format not on whitelist") != std::string::npos) {
    auto why = refuse_format(refused_demuxer(tail));
    return {why.value_or("This file is not in a video format reel accepts."), permanent};
  }
  if (has_any(text, {"cannot allocate memory", "out of memory", "malloc of size", "std::bad_alloc",
                     "failed to allocate", "resource temporarily unavailable",
                     // libx264 fails to open (threads, buffers) when its memory is refused;
                     // reel's own encoder parameters are valid.
                     "error while opening encoder"}))
    return {"The video needs more memory to process than this server allows.", permanent};
  if (has_any(text, {"moov atom not found", "partial file", "truncat", "unexpected end", "end of file",
                     "invalid nal unit size", "stream ends prematurely", "premature end"}))
    return {"The file ends early: it may be truncated.", permanent};
  if (has_any(text, {"decoder (codec", "unknown decoder", "no decoder", "unsupported codec", "codec not supported",
                     "not currently supported", "could not find codec parameters", "unknown codec",
                     "function not implemented", "patch welcome"}))
    return {"The video uses a format or codec reel cannot decode.", permanent};
  if (r.signal == SIGSEGV || r.signal == SIGBUS || r.signal == SIGABRT || r.signal == SIGFPE || r.signal == SIGILL)
    return {"The video could not be decoded: the file may be damaged.", permanent};
  if (s == step::probe) return {"This file is not a video, or not in a format reel can read.", permanent};
  if (has_any(text, {"invalid data found", "error while decoding", "corrupt", "invalid argument"}))
    return {"The video could not be decoded: the file may be damaged.", permanent};
  if (s == step::poster) return {"Making the poster failed.", transient};
  return {"The video could not be processed.", transient};
}

}  // namespace reel::media
