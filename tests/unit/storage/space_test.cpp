#include "storage/space.hpp"

#include "core/errors.hpp"
#include "support/common.hpp"
#include "support/tmpfs.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using reel::errc;
using reel::storage::ballast;
using reel::storage::space_guard;
using reel::test::k_mib;
using reel::test::tmpfs_mount;
namespace fs = std::filesystem;

namespace {

#define REQUIRE_TMPFS(volume) \
  if (!(volume).mounted()) GTEST_SKIP() << (volume).why_not()

// The errc `fn` throws as reel::error, or nullopt when it does not throw.
template <class F>
std::optional<errc> space_refusal(F&& fn) {
  try {
    fn();
  } catch (const reel::error& e) {
    return e.code();
  }
  return std::nullopt;
}

struct fake_time {
  std::chrono::steady_clock::time_point now{};
  space_guard::time_source source() {
    return [this] { return now; };
  }
};

}  // namespace

TEST(storage_space, the_default_reserve_is_two_percent_between_4_and_256_mib) {
  EXPECT_EQ(reel::storage::default_reserve(64 * k_mib), 4 * k_mib);
  EXPECT_EQ(reel::storage::default_reserve(1000 * k_mib), 20 * k_mib);
  EXPECT_EQ(reel::storage::default_reserve(100ULL * 1024 * k_mib), 256 * k_mib);
  EXPECT_EQ(reel::storage::default_ballast(64 * k_mib), 2 * k_mib);
  EXPECT_EQ(reel::storage::default_ballast(8 * k_mib), 1 * k_mib);
  EXPECT_EQ(reel::storage::default_ballast(100ULL * 1024 * k_mib), 8 * k_mib);
}

TEST(storage_space, a_directory_not_made_yet_is_measured_on_its_parent_volume) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  auto usage = reel::storage::usage_of(fs::path(volume.dir()) / "not" / "yet");
  EXPECT_EQ(usage.size, 16 * k_mib);
  EXPECT_EQ(usage.available, 16 * k_mib);
}

TEST(storage_space, writes_that_would_eat_into_the_reserve_are_refused_as_insufficient_storage) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  fake_time t;
  space_guard space(volume.dir(), 4 * k_mib, t.source());
  EXPECT_EQ(space.reserve(), 4 * k_mib);
  EXPECT_FALSE(space_refusal([&] { space.check(12 * k_mib); }));
  EXPECT_EQ(space_refusal([&] { space.check(12 * k_mib + 1); }), errc::insufficient_storage);
  volume.fill(fs::path(volume.dir()) / "other", 9 * k_mib);  // someone else writes
  t.now += space_guard::k_refresh;
  EXPECT_EQ(space_refusal([&] { space.check(4 * k_mib); }), errc::insufficient_storage);
  EXPECT_FALSE(space_refusal([&] { space.check(3 * k_mib); }));
  try {
    space.claim(5 * k_mib);
    FAIL() << "no refusal";
  } catch (const reel::error& e) {
    EXPECT_EQ(e.what(), std::string(reel::k_out_of_storage));
    EXPECT_EQ(reel::http_status_of(e.code()), 507u);
  }
}

TEST(storage_space, claims_count_until_the_next_look_and_a_refusal_looks_again) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  fake_time t;
  space_guard space(volume.dir(), 4 * k_mib, t.source());
  space.claim(8 * k_mib);
  volume.fill(fs::path(volume.dir()) / "upload", 8 * k_mib);  // what the claim was for
  // 4 MiB of room as counted, and as seen afresh: a claim of 5 is refused.
  EXPECT_EQ(space_refusal([&] { space.claim(5 * k_mib); }), errc::insufficient_storage);
  space.claim(3 * k_mib);  // counted, not written: 1 MiB left as counted...
  // ...but the refusal looks again and finds the 3 MiB were never written.
  EXPECT_FALSE(space_refusal([&] { space.claim(2 * k_mib); }));
  // Room freed (a delete) is seen by the next refusal's fresh look at once.
  fs::remove(fs::path(volume.dir()) / "upload");
  EXPECT_FALSE(space_refusal([&] { space.claim(10 * k_mib); }));
}

TEST(storage_space, a_zero_reserve_checks_nothing_and_lets_writes_run_into_a_full_volume) {
  tmpfs_mount volume(8 * k_mib);
  REQUIRE_TMPFS(volume);
  space_guard space(volume.dir(), 0);
  EXPECT_FALSE(space_refusal([&] { space.claim(8 * k_mib); }));
  EXPECT_FALSE(space_refusal([&] { space.check(64 * k_mib); }));
  EXPECT_EQ(space.reserve(), 0u);
}

TEST(storage_space, the_ballast_takes_its_room_and_gives_it_back) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  ballast b(fs::path(volume.dir()) / "reserve", 2 * k_mib);
  EXPECT_FALSE(b.in_place());
  ASSERT_TRUE(b.restore(4 * k_mib));
  EXPECT_TRUE(b.in_place());
  EXPECT_EQ(fs::file_size(b.path()), 2 * k_mib);
  EXPECT_EQ(volume.available(), 14 * k_mib);  // allocated, not sparse
  EXPECT_TRUE(b.restore(4 * k_mib));          // in place already
  EXPECT_TRUE(b.release());
  EXPECT_EQ(volume.available(), 16 * k_mib);
  EXPECT_FALSE(b.release());
}

TEST(storage_space, the_ballast_is_not_made_into_the_room_to_keep_and_leaves_nothing_behind) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  volume.fill(fs::path(volume.dir()) / "other", 11 * k_mib);
  ballast b(fs::path(volume.dir()) / "reserve", 2 * k_mib);
  EXPECT_FALSE(b.restore(4 * k_mib));  // 5 MiB free: 2 for the ballast would leave 3
  EXPECT_TRUE(b.restore(3 * k_mib));
  EXPECT_TRUE(b.release());
  volume.fill(fs::path(volume.dir()) / "other");  // full to the last byte
  EXPECT_FALSE(b.restore(0));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(volume.dir())) ++files;
  EXPECT_EQ(files, 1u);  // no partial ballast
}

TEST(storage_space, others_writes_are_seen_after_half_the_reserve_is_claimed_within_the_second) {
  tmpfs_mount volume(16 * k_mib);
  REQUIRE_TMPFS(volume);
  fake_time t;  // the clock stands still: only the claims make it look again
  space_guard space(volume.dir(), 4 * k_mib, t.source());
  space.claim(1 * k_mib);
  volume.fill(fs::path(volume.dir()) / "other", 10 * k_mib);  // unseen yet: 11 MiB of room as counted
  space.claim(1 * k_mib);                                     // 2 MiB claimed: half the reserve
  // The next claim looks again: 6 MiB free, 2 above the reserve.
  EXPECT_EQ(space_refusal([&] { space.claim(3 * k_mib); }), errc::insufficient_storage);
}
