#include "storage/scratch.hpp"

#include "storage/blobs.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct temp_root {
  fs::path path;
  temp_root() {
    std::string tmpl = (fs::temp_directory_path() / "reel-scratch-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_root() { fs::remove_all(path); }
};

void touch(const fs::path& p) { std::ofstream(p) << "x"; }

}  // namespace

TEST(scratch, a_live_processs_directory_is_never_removed_and_a_dead_ones_is) {
  temp_root root;
  reel::storage::scratch_dir mine(root.path);
  auto other = std::make_unique<reel::storage::scratch_dir>(root.path);  // held: its lock is taken
  touch(other->path() / "upload.part");
  // A directory whose owner died: a lock file nobody holds.
  fs::create_directories(root.path / "deadProcess1");
  touch(root.path / "deadProcess1" / ".lock");
  touch(root.path / "deadProcess1" / "upload.part");

  auto swept = reel::storage::remove_abandoned_scratch(root.path, mine.path(), 0s);
  ASSERT_EQ(swept.removed.size(), 1u);
  EXPECT_EQ(swept.removed[0], "deadProcess1");
  EXPECT_TRUE(fs::exists(other->path() / "upload.part"));
  EXPECT_TRUE(fs::exists(mine.path()));
  auto gone = other->path();
  other.reset();  // a clean exit removes its own
  EXPECT_FALSE(fs::exists(gone));
}

TEST(scratch, directories_without_a_lock_and_loose_files_go_only_once_untouched_long_enough) {
  temp_root root;
  reel::storage::scratch_dir mine(root.path);
  fs::create_directories(root.path / "noLock");
  touch(root.path / "old.part");
  EXPECT_TRUE(reel::storage::remove_abandoned_scratch(root.path, mine.path(), 1h).removed.empty());
  EXPECT_TRUE(fs::exists(root.path / "noLock"));
  EXPECT_TRUE(fs::exists(root.path / "old.part"));
  auto long_ago = fs::file_time_type::clock::now() - 2h;
  fs::last_write_time(root.path / "noLock", long_ago);
  fs::last_write_time(root.path / "old.part", long_ago);
  auto swept = reel::storage::remove_abandoned_scratch(root.path, mine.path(), 1h);
  EXPECT_EQ(swept.removed.size(), 1u);
  EXPECT_EQ(swept.loose, 1u);
  EXPECT_FALSE(fs::exists(root.path / "noLock"));
  EXPECT_FALSE(fs::exists(root.path / "old.part"));
}

TEST(scratch, temp_files_of_a_prepared_layout_are_written_in_its_scratch_directory) {
  temp_root root;
  reel::storage::layout files(root.path);
  files.prepare(0s);
  EXPECT_EQ(files.scratch().parent_path(), files.tmp_dir());
  reel::storage::temp_file f(files);
  EXPECT_EQ(f.path().parent_path(), files.scratch());
}
