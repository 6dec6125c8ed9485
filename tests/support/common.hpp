// Small names several unit test files share. One copy here: the tests build
// as a unity build, where two files' copies of a name would clash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace reel::test {

constexpr std::uint64_t k_mib = 1 << 20;

// The time the database tests write as now.
constexpr const char* k_now = "2026-01-01T00:00:00.000Z";

using strings = std::vector<std::string>;

}  // namespace reel::test
