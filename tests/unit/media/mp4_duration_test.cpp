// The duration an MP4 declares in 'moov' → 'mvhd', read from its boxes:
// both header versions, 64-bit and to-the-end box sizes, and every way a
// file can fail to have one (then nullopt, never a read past the data). On
// real files made by ffmpeg it matches ffprobe's format duration.
#include "media/mp4_duration.hpp"

#include "support/media.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <string>

using reel::media::mp4_declared_duration;

namespace {

std::string be(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += i < 8 ? static_cast<char>((v >> (8 * i)) & 0xff) : '\0';
  return out;
}

std::string box(std::string_view type, const std::string& content) {
  return be(8 + content.size(), 4) + std::string(type) + content;
}

std::string mvhd_v0(std::uint32_t timescale, std::uint32_t duration) {
  return box("mvhd", std::string("\0\0\0\0", 4) + be(0, 4) + be(0, 4) + be(timescale, 4) + be(duration, 4) +
                         std::string(80, '\0'));
}

std::string mvhd_v1(std::uint32_t timescale, std::uint64_t duration) {
  return box("mvhd", std::string("\1\0\0\0", 4) + be(0, 8) + be(0, 8) + be(timescale, 4) + be(duration, 8) +
                         std::string(80, '\0'));
}

const std::string ftyp = box("ftyp", "isom" + be(512, 4) + "isomiso2avc1mp41");

// Reads from `data`, failing the test on any read that starts past its end.
std::optional<double> duration_of(const std::string& data, int* reads = nullptr) {
  return mp4_declared_duration(data.size(), [&](std::uint64_t offset, std::span<unsigned char> out) -> std::size_t {
    EXPECT_LT(offset, data.size());
    if (reads) ++*reads;
    if (offset >= data.size()) return 0;
    std::size_t n = std::min<std::size_t>(out.size(), data.size() - offset);
    std::memcpy(out.data(), data.data() + offset, n);
    return n;
  });
}

}  // namespace

TEST(mp4_duration, both_header_versions_give_duration_over_timescale) {
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v0(1000, 30'040))), 30.04);
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v1(90'000, 900'000ull * 7200))), 72000.0);
  // mvhd after the tracks, moov after a large mdat: the boxes are stepped over, not read.
  std::string tracks = box("trak", std::string(4000, 'x'));
  std::string mdat = box("mdat", std::string(100'000, '\0'));
  int reads = 0;
  EXPECT_EQ(duration_of(ftyp + box("free", "") + mdat + box("moov", tracks + mvhd_v0(600, 300)), &reads), 0.5);
  EXPECT_LE(reads, 7);
}

TEST(mp4_duration, sixty_four_bit_and_to_the_end_sizes_are_followed) {
  std::string big_mdat = be(1, 4) + "mdat" + be(16 + 32, 8) + std::string(32, '\0');
  EXPECT_EQ(duration_of(ftyp + big_mdat + box("moov", mvhd_v0(1000, 2000))), 2.0);
  std::string moov_to_end = be(0, 4) + "moov" + mvhd_v0(1000, 4500);
  EXPECT_EQ(duration_of(ftyp + moov_to_end), 4.5);
}

TEST(mp4_duration, a_file_without_a_movie_header_has_none) {
  EXPECT_EQ(duration_of(""), std::nullopt);
  EXPECT_EQ(duration_of("not an mp4 at all, just some text"), std::nullopt);
  EXPECT_EQ(duration_of(ftyp + box("mdat", "xxxx")), std::nullopt);                     // no moov (not faststart, cut)
  EXPECT_EQ(duration_of(ftyp + box("moov", box("trak", ""))), std::nullopt);            // moov without mvhd
  EXPECT_EQ(duration_of(ftyp + box("mdat", mvhd_v0(1000, 1000))), std::nullopt);        // mvhd outside moov
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v0(0, 1000))), std::nullopt);           // timescale 0
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v0(1000, 0xffffffff))), std::nullopt);  // unknown
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v1(1000, UINT64_MAX))), std::nullopt);
  EXPECT_EQ(duration_of(ftyp + box("moov", mvhd_v0(1000, 0))), 0.0);  // declared empty is a duration
}

TEST(mp4_duration, malformed_boxes_end_the_search_without_reading_past_the_data) {
  std::string moov = box("moov", mvhd_v0(1000, 1000));
  EXPECT_EQ(duration_of(ftyp + moov.substr(0, moov.size() - 1)), std::nullopt);  // moov cut short
  EXPECT_EQ(duration_of(be(4, 4) + "ftyp" + moov), std::nullopt);                // size below its header
  EXPECT_EQ(duration_of(be(1, 4) + "mdat" + be(3, 8) + moov), std::nullopt);     // 64-bit size below 16
  EXPECT_EQ(duration_of(be(1, 4) + "mdat"), std::nullopt);                       // 64-bit size missing
  EXPECT_EQ(duration_of(be(UINT32_MAX, 4) + "mdat" + moov), std::nullopt);       // past the end
  // An mvhd whose box ends before its fields: the fields beyond are not read from the next box.
  std::string short_mvhd = box("mvhd", std::string("\0\0\0\0", 4) + be(0, 8));
  EXPECT_EQ(duration_of(ftyp + box("moov", short_mvhd + box("free", be(1000, 4) + be(1000, 4)))), std::nullopt);
  EXPECT_EQ(duration_of(ftyp + box("moov", box("mvhd", ""))), std::nullopt);  // an empty mvhd at the very end
  std::string short_v1 = box("mvhd", std::string("\1\0\0\0", 4) + be(0, 16) + be(1000, 4));
  EXPECT_EQ(duration_of(ftyp + box("moov", short_v1)), std::nullopt);
  // Many tiny boxes: the search stops after a bounded number.
  std::string frees;
  for (int i = 0; i < 5000; ++i) frees += box("free", "");
  int reads = 0;
  EXPECT_EQ(duration_of(frees + moov, &reads), std::nullopt);
  EXPECT_LE(reads, 1100);
}

TEST(mp4_duration, real_files_agree_with_ffprobe) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("reel-mp4-duration-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (bool audio : {true, false}) {
    std::string clip = (dir / (audio ? "av.mp4" : "v.mp4")).string();
    reel::test::make_clip(clip, {.seconds = 3, .audio = audio});
    std::string fast = (dir / "fast.mp4").string();
    reel::test::shell("ffmpeg -v error -y -i " + clip + " -c copy -movflags +faststart " + fast);
    for (const auto& file : {clip, fast}) {
      double probed =
          std::stod(reel::test::shell("ffprobe -v error -show_entries format=duration -of csv=p=0 " + file));
      auto declared = mp4_declared_duration(fs::path(file));
      ASSERT_TRUE(declared) << file;
      EXPECT_NEAR(*declared, probed, 0.0015) << file;  // ffprobe prints microseconds
      EXPECT_NEAR(*declared, 3.0, 0.1) << file;
    }
  }
  EXPECT_THROW(mp4_declared_duration(dir / "missing.mp4"), std::system_error);
  fs::remove_all(dir);
}
