#include "core/fault.hpp"

#include <unistd.h>

namespace reel::fault {

namespace {
// Written once by arm_crash() before any other thread starts, read after.
std::string& armed() {
  static std::string name;
  return name;
}
}  // namespace

void arm_crash(std::string name) { armed() = std::move(name); }

void crash_point(std::string_view name) noexcept {
  const std::string& at = armed();
  if (at.empty() || at != name) return;
  // Said on stderr directly: the log's buffer dies with the process.
  std::string line = "reel: crashing at " + std::string(name) + " (REEL_TEST_CRASH_AT)\n";
  [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
  ::_exit(137);
}

}  // namespace reel::fault
