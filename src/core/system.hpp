// Small facts about the host, each a blocking call: run them on the thread pool.
#pragma once

#include <optional>
#include <string>

namespace reel::sys {

// The full path of `name` found in $PATH and executable, or nullopt.
std::optional<std::string> find_executable(const std::string& name);

// Creates, fsyncs and removes a small file in `dir`. Returns the failure in
// words, or nullopt when the directory is writable.
std::optional<std::string> probe_writable(const std::string& dir);

// Raises the open-file limit to the hard limit (many connections need many
// descriptors). Returns the new soft limit.
unsigned long raise_fd_limit();

}  // namespace reel::sys
