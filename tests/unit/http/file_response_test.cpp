#include "http/file_response.hpp"
#include "support/sanitizers.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

using reel::errc;
namespace fs = std::filesystem;

namespace {

class file_response_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("reel-file-response-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "video.mp4") << "0123456789";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The error open_file_info throws for `path`, or nullopt when it does not throw.
  static std::optional<reel::error> failure_of(const fs::path& path) {
    try {
      reel::http::open_file_info(path);
    } catch (const reel::error& e) {
      return e;
    }
    return std::nullopt;
  }

  fs::path dir_;
};

}  // namespace

TEST_F(file_response_test, a_file_that_is_there_opens_with_its_size_and_validators) {
  auto info = reel::http::open_file_info(dir_ / "video.mp4");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 10u);
  EXPECT_FALSE(info->etag.empty());
}

TEST_F(file_response_test, only_a_missing_file_is_absent) {
  EXPECT_FALSE(reel::http::open_file_info(dir_ / "missing.mp4"));              // ENOENT
  EXPECT_FALSE(reel::http::open_file_info(dir_ / "video.mp4" / "inside.ts"));  // ENOTDIR
  EXPECT_FALSE(reel::http::open_file_info(dir_));                              // not a regular file
  EXPECT_TRUE(reel::http::means_absent(ENOENT));
  EXPECT_TRUE(reel::http::means_absent(ENOTDIR));
  for (int e : {EMFILE, ENFILE, EIO, EACCES, ELOOP, ENOMEM}) EXPECT_FALSE(reel::http::means_absent(e)) << e;
}

TEST_F(file_response_test, a_file_that_cannot_be_opened_is_unavailable_with_retry_after_never_absent) {
  fs::create_symlink(dir_ / "loop-b", dir_ / "loop-a");
  fs::create_symlink(dir_ / "loop-a", dir_ / "loop-b");
  auto e = failure_of(dir_ / "loop-a");  // ELOOP
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), errc::unavailable);
  EXPECT_EQ(reel::http_status_of(e->code()), 503u);
  EXPECT_EQ(e->retry_after(), reel::http::k_unreadable_retry);
  EXPECT_EQ(std::string(e->what()).find(dir_.string()), std::string::npos) << "no path in the client's message";
}

TEST_F(file_response_test, out_of_descriptors_is_unavailable_not_not_found) {
  if (reel::test::k_sanitized) GTEST_SKIP() << reel::test::k_no_descriptors_under_sanitizers;
  // The lowest free descriptor is the next open's: a limit at it makes that open fail with EMFILE.
  int probe = ::dup(0);
  ASSERT_GE(probe, 0);
  ::close(probe);
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit low = before;
  low.rlim_cur = static_cast<rlim_t>(probe);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::optional<reel::error> e;
  std::optional<reel::http::file_info> info;
  try {
    info = reel::http::open_file_info(dir_ / "video.mp4");
  } catch (const reel::error& failure) {
    e = failure;
  }
  ::setrlimit(RLIMIT_NOFILE, &before);
  ASSERT_TRUE(e) << "the open did not fail";
  EXPECT_EQ(e->code(), errc::unavailable);
  EXPECT_EQ(e->retry_after(), reel::http::k_unreadable_retry);
  // And once descriptors are back, the same file opens.
  EXPECT_TRUE(reel::http::open_file_info(dir_ / "video.mp4"));
}
