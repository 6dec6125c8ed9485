// Small facts about the host, each a blocking call: run them on the thread pool.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace reel::sys {

// Throws std::system_error for the current errno, with `what` as its message.
[[noreturn]] void throw_errno(const std::string& what);

// The full path of `name` found in $PATH and executable, or nullopt.
std::optional<std::string> find_executable(const std::string& name);

// Creates, writes, fsyncs, renames and removes a small file in `dir` and
// fsyncs the directory: what storing a file needs (on a shared volume too).
// Returns the failure in words, or nullopt when all of it works.
std::optional<std::string> probe_writable(const std::string& dir);

// Makes the data directory private to the server's user: sets the process
// umask to 077 (so every file and directory reel or its ffmpeg children
// create is 0600/0700), creates `dir` if needed, and takes the group and
// other permissions off `dir` and what is directly in it (the SQLite files
// of an older install). Returns the failure in words, or nullopt.
std::optional<std::string> make_private_dir(const std::string& dir);

// Raises the open-file limit to the hard limit (many connections need many
// descriptors). Returns the new soft limit.
unsigned long raise_fd_limit();

// Asks the kernel's fair scheduler (EEVDF, Linux 6.12+) for a short time
// slice for the calling thread, so that when it wakes up it preempts
// long-running CPU work (the thread pool's password hashing) at once instead
// of after that work's slice. A hint: returns false where it is not supported.
bool request_short_slice();

// Has malloc keep up to `bytes` of freed memory at the top of each heap
// instead of handing it back to the kernel after every burst. With glibc's
// default, a server answering many mid-sized requests from several threads
// shrank and regrew its heaps (a brk or madvise call every ten requests, and
// the page faults after): GET /api/videos with the list cache off answered
// 9,000 requests/s instead of 16,000. A trim threshold given in
// GLIBC_TUNABLES or MALLOC_TRIM_THRESHOLD_ wins. Returns whether it was set.
bool keep_freed_memory(std::size_t bytes);

}  // namespace reel::sys
