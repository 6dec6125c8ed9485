// Crash points for tests of crash consistency: named places between the
// steps of an operation that writes both files and rows. Compiled into
// every build and inert unless REEL_TEST_CRASH_AT names one of them; then
// the process ends there at once with _exit(137), as a kill -9 would (no
// destructors, no flush, no rollback), so that a test can restart it and
// check what the crash left behind.
#pragma once

#include <string>
#include <string_view>

namespace reel::fault {

// Arms the crash point `name` ("" arms none). Called once at start-up,
// before any other thread runs; not thread-safe.
void arm_crash(std::string name);

// Ends the process here if `name` is the armed crash point. Any thread.
void crash_point(std::string_view name) noexcept;

}  // namespace reel::fault
