#include "api/web.hpp"

#include <gtest/gtest.h>

using reel::api::static_file_type;

TEST(web, static_file_types_by_extension) {
  EXPECT_EQ(static_file_type("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(static_file_type("vendor/hls.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(static_file_type("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(static_file_type("img/logo.svg"), "image/svg+xml");
  EXPECT_EQ(static_file_type("index.html"), "text/html; charset=utf-8");
}

TEST(web, static_paths_that_could_escape_or_hide_are_refused) {
  for (const char* bad : {"", "../secret.js", "a/../b.js", "./a.js", ".env", "a/.hidden.js", "a//b.js", "/abs.js", "a/",
                          "a\\b.js", "a b.js", "a%2e.js", "noext", "a.exe", "a/b/c/d/e/f/g/h/i.js"})
    EXPECT_EQ(static_file_type(bad), std::nullopt) << bad;
}
