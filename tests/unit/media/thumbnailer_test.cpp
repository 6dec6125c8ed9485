// The bounds of the on-demand frame cache: snapped times and widths, and
// least-recently-used eviction by size.
#include "media/thumbnailer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

using namespace reel::media;

TEST(frames, widths_snap_up_to_a_small_fixed_set) {
  EXPECT_EQ(snap_frame_width(16), 80);
  EXPECT_EQ(snap_frame_width(80), 80);
  EXPECT_EQ(snap_frame_width(81), 120);
  EXPECT_EQ(snap_frame_width(160), 160);
  EXPECT_EQ(snap_frame_width(161), 240);
  EXPECT_EQ(snap_frame_width(1919), 1920);
  EXPECT_EQ(snap_frame_width(5000), 1920);
  std::set<int> all;
  for (int w = 16; w <= 1920; ++w) all.insert(snap_frame_width(w));
  EXPECT_EQ(all.size(), 10u);
}

TEST(frames, times_snap_to_at_most_300_points_per_video) {
  for (double duration : {0.5, 2.0, 10.0, 29.97, 95.0, 600.0, 3600.0, 6 * 3600.0, 48 * 3600.0}) {
    std::set<long long> points;
    for (int ms = 0; ms <= duration * 1000 + 5000; ms += std::max(1, static_cast<int>(duration)))
      points.insert(std::llround(snap_frame_time(ms / 1000.0, duration) * 1000));
    EXPECT_LE(points.size(), 301u) << duration;
    EXPECT_GE(points.size(), std::min<std::size_t>(5, static_cast<std::size_t>(duration * 10))) << duration;
    for (long long p : points) {
      EXPECT_GE(p, 0);
      EXPECT_LT(p, std::max(1.0, duration * 1000)) << duration;  // inside the video
    }
  }
  // Short clips keep tenths (the web UI's frame strip labels).
  EXPECT_DOUBLE_EQ(snap_frame_time(1.5, 10), 1.5);
  EXPECT_NEAR(snap_frame_time(1.5234, 10), 1.5, 1e-9);
  EXPECT_NEAR(snap_frame_time(1.56, 10), 1.6, 1e-9);
  // Clamped to the video, whatever is asked.
  EXPECT_NEAR(snap_frame_time(1e7, 10), 9.9, 1e-9);
  EXPECT_EQ(snap_frame_time(-3, 10), 0);
  EXPECT_EQ(snap_frame_time(std::nan(""), 10), 0);
  EXPECT_EQ(snap_frame_time(5, 0), 0);
  // An hour: 15 s steps.
  EXPECT_NEAR(snap_frame_time(1000, 3600), 1005, 1e-9);
}

TEST(frames, cache_evicts_least_recently_used_beyond_its_limit) {
  frame_cache c(1000);
  c.touch("a", 400);
  c.touch("b", 400);
  EXPECT_TRUE(c.overflow().empty());
  c.touch("a", 400);  // a is now the most recent
  c.touch("c", 400);
  EXPECT_EQ(c.overflow(), std::vector<std::string>{"b"});
  EXPECT_EQ(c.bytes(), 800u);
  EXPECT_EQ(c.files(), 2u);
  c.forget("a");
  c.forget("nothing");
  EXPECT_EQ(c.bytes(), 400u);
  // One file larger than the limit stays (it is about to be served).
  c.touch("huge", 5000);
  EXPECT_EQ(c.overflow(), std::vector<std::string>{"c"});
  EXPECT_EQ(c.files(), 1u);
  // A file re-made with another size is counted once.
  c.touch("huge", 10);
  EXPECT_EQ(c.bytes(), 10u);
}

TEST(frames, a_restarted_server_learns_its_cached_frames_oldest_first_and_trims_them) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("reel-frames-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto put = [&](const fs::path& rel, std::size_t size, int hours_ago) {
    fs::create_directories((root / rel).parent_path());
    std::ofstream(root / rel) << std::string(size, 'j');
    fs::last_write_time(root / rel, fs::file_time_type::clock::now() - std::chrono::hours(hours_ago));
  };
  put("orgs/o1/videos/v1/thumbs/t1000_w160.jpg", 3000, 3);  // the oldest: goes
  put("orgs/o1/videos/v1/thumbs/t2000_w160.jpg", 3000, 2);
  put("orgs/o2/videos/v2/thumbs/t0_w80.jpg", 3000, 1);
  put("orgs/o1/videos/v1/hls/240p/cover.jpg", 5000, 9);  // not a cached frame: neither counted nor removed
  put("orgs/o1/videos/v1/thumbs/notes.txt", 5000, 9);
  boost::asio::io_context io;
  reel::worker_pool pool(1);
  thumbnailer t(io, pool, {}, 1, 6500);
  std::exception_ptr failure;
  boost::asio::co_spawn(io, t.load(root), [&](std::exception_ptr e) { failure = e; });
  io.run();
  ASSERT_FALSE(failure);
  EXPECT_EQ(t.cached_bytes(), 6000u);
  EXPECT_FALSE(fs::exists(root / "orgs/o1/videos/v1/thumbs/t1000_w160.jpg"));
  EXPECT_TRUE(fs::exists(root / "orgs/o1/videos/v1/thumbs/t2000_w160.jpg"));
  EXPECT_TRUE(fs::exists(root / "orgs/o2/videos/v2/thumbs/t0_w80.jpg"));
  EXPECT_TRUE(fs::exists(root / "orgs/o1/videos/v1/hls/240p/cover.jpg"));
  EXPECT_TRUE(fs::exists(root / "orgs/o1/videos/v1/thumbs/notes.txt"));
  fs::remove_all(root);
}
