#include "media/failure.hpp"

#include "media/ffmpeg.hpp"
#include "support/media.hpp"
#include "support/scratch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>

using namespace reel::media;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

child_result failure_run_child(const std::vector<std::string>& argv, child_limits limits = {}) {
  boost::asio::io_context io;
  child_process child(io.get_executor(), limits);
  child_result result;
  std::exception_ptr failure;
  auto task = [&]() -> boost::asio::awaitable<void> { result = co_await child.run(argv, nullptr, 60s); };
  boost::asio::co_spawn(io, task(), [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return result;
}

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

// Words for the uploader: no path, nothing of ffmpeg's output.
void expect_words_only(const failure& f) {
  EXPECT_EQ(f.message.find('/'), std::string::npos) << f.message;
  for (const char* jargon : {"ffmpeg", "ffprobe", "@ 0x", "Invalid data", "moov", "whitelist", "["})
    EXPECT_EQ(f.message.find(jargon), std::string::npos) << f.message;
}

class failure_test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = reel::test::scratch_path("reel-failure-");
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "other");
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Probes `bytes` (written as an upload named "original") the way the worker does.
  failure probe(const std::string& bytes) {
    write(dir_ / "original", bytes);
    auto r = failure_run_child(probe_command(tools_, (dir_ / "original").string()));
    EXPECT_FALSE(r.ok());
    auto f = explain_failure(step::probe, r, dir_.string());
    expect_words_only(f);
    return f;
  }
  fs::path dir_;
  paths tools_{"/usr/bin/ffmpeg", "/usr/bin/ffprobe"};
};

}  // namespace

// Security issue, items 2 and 8, with real ffprobe: what used to be read (or
// shown with a server path) is refused in words.
TEST_F(failure_test, playlists_manifests_and_lists_are_refused_before_reading_what_they_name) {
  reel::test::make_clip((dir_ / "other/clip.mp4").string(), {.seconds = 1, .width = 64, .height = 48});
  ASSERT_EQ(std::system(("ffmpeg -v error -y -i '" + (dir_ / "other/clip.mp4").string() + "' -c copy -f mpegts '" +
                         (dir_ / "other/seg.ts").string() + "'")
                            .c_str()),
            0);
  auto hls =
      probe("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\nother/seg.ts\n#EXT-X-ENDLIST\n");
  EXPECT_EQ(hls.message, "This file is a playlist, not a video.");
  EXPECT_EQ(hls.kind, failure_kind::permanent);
  auto dash = probe(
      "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
      "profiles=\"urn:mpeg:dash:profile:isoff-on-demand:2011\" type=\"static\" mediaPresentationDuration=\"PT1S\">"
      "<Period><AdaptationSet><Representation id=\"0\" bandwidth=\"1\"><BaseURL>other/clip.mp4</BaseURL>"
      "</Representation></AdaptationSet></Period></MPD>\n");
  EXPECT_EQ(dash.message, "This file is a streaming manifest, not a video.");
  EXPECT_EQ(probe("ffconcat version 1.0\nfile other/clip.mp4\n").message,
            "This file is a list of other files, not a video.");
  ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48 -frames:v 1 -f image2 -c:v png '" +
                         (dir_ / "still").string() + "'")
                            .c_str()),
            0);
  EXPECT_EQ(probe(reel::test::read_file(dir_ / "still")).message, "This file is an image, not a video.");
}

TEST_F(failure_test, garbage_and_truncated_files_are_told_in_words) {
  auto garbage = probe(reel::test::random_bytes(50'000, 3));
  EXPECT_EQ(garbage.message, "This file is not a video, or not in a format reel can read.");
  EXPECT_EQ(garbage.kind, failure_kind::permanent);
  // An MP4 cut before its index (written at the end without faststart).
  std::string whole = reel::test::make_clip((dir_ / "whole.mp4").string(), {.seconds = 2});
  ASSERT_LT(whole.find("mdat"), whole.find("moov"));
  auto cut = probe(whole.substr(0, whole.size() / 2));
  EXPECT_EQ(cut.message, "The file ends early: it may be truncated.");
  EXPECT_EQ(cut.kind, failure_kind::permanent);
}

TEST_F(failure_test, running_out_of_the_memory_limit_is_told_in_words) {
  auto r = failure_run_child({"/usr/bin/ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080",
                              "-frames:v", "2", "-c:v", "libx264", "-threads", "4", "-f", "null", "-"},
                             {.memory_bytes = std::uint64_t(400) << 20});
  ASSERT_FALSE(r.ok());
  auto f = explain_failure(step::transcode, r);
  EXPECT_EQ(f.message, "The video needs more memory to process than this server allows.");
  EXPECT_EQ(f.kind, failure_kind::permanent);
  expect_words_only(f);
}

TEST(explain_failure, outcomes_become_sentences) {
  auto with = [](std::string tail) {
    child_result r;
    r.exit_code = 1;
    r.stderr_tail = std::move(tail);
    return r;
  };
  child_result timed_out;
  timed_out.killed = timed_out.timed_out = true;
  EXPECT_EQ(explain_failure(step::transcode, timed_out).message, "Processing took too long and was stopped.");
  EXPECT_EQ(explain_failure(step::transcode, timed_out).kind, failure_kind::permanent);
  child_result cpu;
  cpu.signal = SIGXCPU;
  EXPECT_EQ(explain_failure(step::transcode, cpu).message,
            "Processing used more computing time than allowed and was stopped.");
  child_result oom;
  oom.signal = SIGKILL;
  EXPECT_EQ(explain_failure(step::transcode, oom).kind, failure_kind::transient);  // the kernel's kill: try again
  child_result not_started;
  not_started.start_error = "No such file or directory: /usr/bin/ffmpeg";
  EXPECT_EQ(explain_failure(step::probe, not_started).message, "The video processor could not be started.");
  EXPECT_EQ(explain_failure(step::probe, not_started).kind, failure_kind::resource);  // fork/exec: the server's
  EXPECT_EQ(explain_failure(step::transcode, with("Decoder (codec none) not found for input stream #0:0\n")).message,
            "The video uses a format or codec reel cannot decode.");
  EXPECT_EQ(explain_failure(step::transcode,
                            with("Error initializing output stream 1:4 -- Error while opening encoder for output "
                                 "stream #1:4 - maybe incorrect parameters such as bit_rate, rate, width or height\n"))
                .message,
            "The video needs more memory to process than this server allows.");
  EXPECT_EQ(
      explain_failure(step::transcode, with("/data/x/work-1/hls/240p/seg_000.ts: No space left on device\n")).message,
      "The server ran out of disk space while processing the video.");
  // The server's resources, whatever else ffmpeg said: retried later, not counted.
  EXPECT_EQ(explain_failure(step::transcode, with("seg_000.ts: No space left on device\nError writing trailer: "
                                                  "Invalid argument\n"))
                .kind,
            failure_kind::resource);
  EXPECT_EQ(explain_failure(step::poster, with("x.jpg: Disk quota exceeded\n")).kind, failure_kind::resource);
  auto fds = explain_failure(step::probe, with("original: Too many open files\n"));
  EXPECT_EQ(fds.message, "The server ran out of open files while processing the video.");
  EXPECT_EQ(fds.kind, failure_kind::resource);
  child_result crashed;
  crashed.signal = SIGSEGV;
  EXPECT_EQ(explain_failure(step::transcode, crashed).message,
            "The video could not be decoded: the file may be damaged.");
  // Unrecognized: retried after the probe, refused at the probe.
  EXPECT_EQ(explain_failure(step::transcode, with("something new\n")).message, "The video could not be processed.");
  EXPECT_EQ(explain_failure(step::transcode, with("something new\n")).kind, failure_kind::transient);
  EXPECT_EQ(explain_failure(step::probe, with("something new\n")).kind, failure_kind::permanent);
  EXPECT_EQ(explain_failure(step::poster, with("something new\n")).message, "Making the poster failed.");
  EXPECT_EQ(explain_failure(step::poster, with("something new\n")).kind, failure_kind::transient);
  // The server's paths are not read as ffmpeg's words.
  EXPECT_EQ(explain_failure(step::probe,
                            with("/srv/truncated files/v1/original: Invalid data found when processing "
                                 "input\n"),
                            "/srv/truncated files/v1")
                .message,
            "This file is not a video, or not in a format reel can read.");
  // The refused demuxer is read from ffmpeg's log prefix.
  EXPECT_EQ(
      explain_failure(step::probe, with("[concat @ 0x55d0] Format not on whitelist 'mov'\n/x: Invalid argument\n"))
          .message,
      "This file is a list of other files, not a video.");
}

TEST(explain_failure, storage_errnos_of_the_servers_resources_are_told_apart) {
  for (int e : {ENOSPC, EDQUOT, EMFILE, ENFILE, EIO}) EXPECT_TRUE(is_resource_errno(e)) << e;
  for (int e : {0, ENOENT, EACCES, EEXIST, EINVAL, ENOTDIR}) EXPECT_FALSE(is_resource_errno(e)) << e;
  EXPECT_EQ(resource_failure_message(EDQUOT), "The server ran out of disk space while processing the video.");
  EXPECT_EQ(resource_failure_message(ENFILE), "The server ran out of open files while processing the video.");
  EXPECT_EQ(resource_failure_message(EIO), "The server's storage failed while processing the video.");
}
