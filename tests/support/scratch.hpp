// A scratch directory path for the running test, in the temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace reel::test {

// <temp>/<prefix><pid>-<test name>. A parameterized test's name holds a '/'
// ("name/0"), which would make the path a subdirectory of one that removing
// the path leaves behind: it becomes '_'.
inline std::filesystem::path scratch_path(const std::string& prefix) {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(name.begin(), name.end(), '/', '_');
  return std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()) + "-" + name);
}

}  // namespace reel::test
