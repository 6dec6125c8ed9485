#pragma once
// A suite's shared setup (a server with ready videos, made once in
// SetUpTestSuite) that throws makes GoogleTest skip every test of the suite
// with no reason given, and ctest counts them as skipped, not failed: a
// broken setup would pass unseen. Such a setup runs through set_up_suite,
// which keeps the error; each test's SetUp then fails with it:
//
//   static void SetUpTestSuite() { reel::test::set_up_suite([] { lib_ = new library(); }); }
//   void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
//
// (a TearDown that uses the setup returns early when suite_setup_failed()).

#include <gtest/gtest.h>

#include <exception>
#include <functional>
#include <string>

namespace reel::test {

inline std::string& suite_setup_error() {
  static std::string error;
  return error;
}

inline bool suite_setup_failed() { return !suite_setup_error().empty(); }

inline void set_up_suite(const std::function<void()>& setup) {
  suite_setup_error().clear();
  try {
    setup();
  } catch (const std::exception& e) {
    suite_setup_error() = *e.what() ? e.what() : "an exception without a message";
  } catch (...) {
    suite_setup_error() = "an exception that is not a std::exception";
  }
}

}  // namespace reel::test

#define REEL_REQUIRE_SUITE_SETUP()                 \
  ASSERT_FALSE(::reel::test::suite_setup_failed()) \
      << "the suite's shared setup (SetUpTestSuite) failed: " << ::reel::test::suite_setup_error()
