// A fresh, migrated SQLite database in a temporary directory per test, for the
// tests of the database and the domain.
#pragma once

#include "db/migrations.hpp"
#include "db/sqlite.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

namespace reel::test {

class db_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = reel::test::scratch_path("reel-store-");
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = db::open_database("", dir_.string(), 2);
    db::migrate(*db_, "2026-01-01T00:00:00.000Z");
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  template <class F>
  void write(F&& f) {
    db_->transact(true, f);
  }

  std::filesystem::path dir_;
  std::unique_ptr<db::database> db_;
};

}  // namespace reel::test
