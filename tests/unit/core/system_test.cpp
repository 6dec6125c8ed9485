#include "core/system.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace {

// Sets or clears an environment variable for one scope, then puts it back.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(keep_freed_memory, a_trim_threshold_the_operator_gave_wins) {
  scoped_env other("GLIBC_TUNABLES", nullptr);
  {
    scoped_env given("MALLOC_TRIM_THRESHOLD_", "131072");
    EXPECT_FALSE(reel::sys::keep_freed_memory(8 << 20));
  }
  {
    scoped_env given("GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=131072");
    EXPECT_FALSE(reel::sys::keep_freed_memory(8 << 20));
  }
  scoped_env none("MALLOC_TRIM_THRESHOLD_", nullptr);
#ifndef __SANITIZE_ADDRESS__  // AddressSanitizer's allocator ignores mallopt
  EXPECT_TRUE(reel::sys::keep_freed_memory(8 << 20));
  // Other tunables leave the choice to reel.
  scoped_env unrelated("GLIBC_TUNABLES", "glibc.malloc.arena_max=2");
  EXPECT_TRUE(reel::sys::keep_freed_memory(8 << 20));
#endif
}
