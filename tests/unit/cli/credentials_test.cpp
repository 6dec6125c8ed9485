#include "cli/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using reel::cli::credential;
using reel::cli::credential_kind;
using reel::cli::credentials_error;
using reel::cli::credentials_path;
using reel::cli::load_credential;
using reel::cli::remove_credential;
using reel::cli::save_credential;

namespace {

class cli_credentials_file : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "reel-cred-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "config" / "reel" / "credentials";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  void write_raw(const std::string& text) {
    fs::create_directories(path_.parent_path());
    std::ofstream(path_) << text;
    ::chmod(path_.c_str(), 0600);
  }
  std::string error_of_loading() {
    try {
      load_credential(path_);
    } catch (const credentials_error& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_, path_;
  credential session_{"http://127.0.0.1:8080", "tok-123", credential_kind::session, "org_1", "ann@example.com"};
};

TEST(cli_credentials, the_path_follows_xdg_config_home_else_home) {
  EXPECT_EQ(credentials_path({{"XDG_CONFIG_HOME", "/x/cfg"}, {"HOME", "/home/ann"}}).string(),
            "/x/cfg/reel/credentials");
  EXPECT_EQ(credentials_path({{"HOME", "/home/ann"}}).string(), "/home/ann/.config/reel/credentials");
  // The XDG rule: a relative (or empty) XDG_CONFIG_HOME is ignored.
  EXPECT_EQ(credentials_path({{"XDG_CONFIG_HOME", "cfg"}, {"HOME", "/home/ann"}}).string(),
            "/home/ann/.config/reel/credentials");
  EXPECT_EQ(credentials_path({{"XDG_CONFIG_HOME", ""}, {"HOME", "/home/ann"}}).string(),
            "/home/ann/.config/reel/credentials");
  EXPECT_THROW(credentials_path({}), credentials_error);
  EXPECT_THROW(credentials_path({{"HOME", "relative"}}), credentials_error);
}

TEST_F(cli_credentials_file, a_saved_credential_loads_back_and_a_missing_file_is_no_login) {
  EXPECT_FALSE(load_credential(path_).has_value());
  save_credential(path_, session_);
  EXPECT_EQ(load_credential(path_), session_);
  credential key{"https://v.example/base", "reel_sk_abc", credential_kind::api_key, "", ""};
  save_credential(path_, key);
  EXPECT_EQ(load_credential(path_), key);
  EXPECT_TRUE(remove_credential(path_));
  EXPECT_FALSE(remove_credential(path_));
  EXPECT_FALSE(load_credential(path_).has_value());
}

TEST_F(cli_credentials_file, the_file_is_0600_and_its_directory_0700_whatever_the_umask) {
  mode_t old = ::umask(0);
  save_credential(path_, session_);
  ::umask(old);
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(mode_of(path_.parent_path()), 0700u);
  EXPECT_EQ(mode_of(path_.parent_path().parent_path()), 0700u);  // a missing XDG directory is made 0700 too
}

TEST_F(cli_credentials_file, an_existing_reel_directory_open_to_others_is_narrowed) {
  fs::create_directories(path_.parent_path());
  ::chmod(path_.parent_path().c_str(), 0755);
  save_credential(path_, session_);
  EXPECT_EQ(mode_of(path_.parent_path()), 0700u);
}

TEST_F(cli_credentials_file, saving_replaces_the_file_whole_by_rename) {
  save_credential(path_, session_);
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  std::ifstream reader(path_);  // a reader of the old file keeps reading the old file
  credential next = session_;
  next.token = "tok-456";
  save_credential(path_, next);
  struct stat after {};
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  std::string old_text((std::istreambuf_iterator<char>(reader)), std::istreambuf_iterator<char>());
  EXPECT_NE(old_text.find("tok-123"), std::string::npos);
  EXPECT_EQ(load_credential(path_)->token, "tok-456");
  // Nothing but the file is left in the directory.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(cli_credentials_file, a_failed_save_leaves_no_temporary_file_and_says_why) {
  fs::create_directories(path_);  // a directory where the file should be: rename fails
  try {
    save_credential(path_, session_);
    FAIL();
  } catch (const credentials_error& e) {
    EXPECT_NE(std::string(e.what()).find(path_.string()), std::string::npos) << e.what();
  }
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(path_.parent_path())) ++entries;
  EXPECT_EQ(entries, 1);  // the directory in the way, nothing else
}

TEST_F(cli_credentials_file, a_corrupt_file_is_a_clear_error_naming_it) {
  for (const char* text : {"", "not json", "[1,2]", R"({"server":"http://a","token":"t","kind":"session"})",
                           R"({"version":2,"server":"http://a","token":"t","kind":"session"})",
                           R"({"version":1,"server":"http://a","kind":"session"})",
                           R"({"version":1,"server":"http://a","token":"","kind":"session"})",
                           R"({"version":1,"server":"http://a","token":"t","kind":"password"})"}) {
    write_raw(text);
    std::string why = error_of_loading();
    EXPECT_NE(why.find(path_.string()), std::string::npos) << text << ": " << why;
    EXPECT_NE(why.find("reel login"), std::string::npos) << text << ": " << why;
  }
  fs::remove(path_);
  fs::create_directories(path_);
  EXPECT_NE(error_of_loading().find("not a small regular file"), std::string::npos);
}

TEST_F(cli_credentials_file, a_file_others_can_read_still_loads_with_a_warning) {
  save_credential(path_, session_);
  ::chmod(path_.c_str(), 0644);
  ::testing::internal::CaptureStderr();
  auto c = load_credential(path_);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(c, session_);
  EXPECT_NE(err.find("can be read by others"), std::string::npos) << err;
}

}  // namespace
