#include "cli/args.hpp"

#include <gtest/gtest.h>

using reel::cli::parse_args;
using reel::cli::parse_count;
using reel::cli::usage_error;

namespace {
const std::vector<reel::cli::flag_spec> k_spec = {{"limit", true}, {"json", false}, {"yes", false, 'y'}};
}

TEST(cli_args, values_switches_and_positionals_in_any_order) {
  auto a = parse_args({"abc", "--limit", "5", "--json", "-y", "def"}, k_spec, "reel videos");
  EXPECT_EQ(a.positional, (std::vector<std::string>{"abc", "def"}));
  EXPECT_EQ(a.value("limit"), "5");
  EXPECT_TRUE(a.has("json"));
  EXPECT_TRUE(a.has("yes"));
  EXPECT_FALSE(a.value("json").has_value());
}

TEST(cli_args, equals_form_and_last_value_wins) {
  auto a = parse_args({"--limit=3", "--limit=7"}, k_spec, "reel videos");
  EXPECT_EQ(a.value("limit"), "7");
  EXPECT_EQ(parse_args({"--limit="}, k_spec, "x").value("limit"), "");
}

TEST(cli_args, double_dash_ends_the_flags) {
  auto a = parse_args({"--", "--json", "-y"}, k_spec, "reel videos");
  EXPECT_EQ(a.positional, (std::vector<std::string>{"--json", "-y"}));
  EXPECT_FALSE(a.has("json"));
  // A lone dash is a positional (stdin, by custom).
  EXPECT_EQ(parse_args({"-"}, k_spec, "x").positional, (std::vector<std::string>{"-"}));
}

TEST(cli_args, mistakes_are_usage_errors_that_name_the_flag) {
  try {
    parse_args({"--limt", "5"}, k_spec, "reel videos list");
    FAIL();
  } catch (const usage_error& e) {
    EXPECT_STREQ(e.what(), "Unknown flag --limt; `reel videos list --help` lists the flags.");
  }
  EXPECT_THROW(parse_args({"--limit"}, k_spec, "x"), usage_error);
  EXPECT_THROW(parse_args({"--json=true"}, k_spec, "x"), usage_error);
  EXPECT_THROW(parse_args({"-x"}, k_spec, "x"), usage_error);
}

// Ids are base64url: one in 64 made before ids stopped beginning with "-"
// does. Such an id is an argument, not an unknown flag.
TEST(cli_args, a_word_with_one_dash_and_more_than_one_letter_is_an_argument) {
  auto a = parse_args({"-Fx4guji9aub0AEV", "--json", "-y", "-yy"}, k_spec, "reel videos show");
  EXPECT_EQ(a.positional, (std::vector<std::string>{"-Fx4guji9aub0AEV", "-yy"}));
  EXPECT_TRUE(a.has("json"));
  EXPECT_TRUE(a.has("yes"));
  // A long flag that does not exist is still a mistake; an id that begins
  // with "--" goes after "--".
  EXPECT_THROW(parse_args({"--Fx4guji9aub0AE"}, k_spec, "x"), usage_error);
  EXPECT_EQ(parse_args({"--", "--Fx4guji9aub0AE"}, k_spec, "x").positional,
            (std::vector<std::string>{"--Fx4guji9aub0AE"}));
}

TEST(cli_args, counts_are_whole_numbers_in_range) {
  EXPECT_EQ(parse_count("limit", "1", 1, 100), 1);
  EXPECT_EQ(parse_count("limit", "100", 1, 100), 100);
  for (const char* bad : {"", "0", "101", "5x", "-1", "1.5", "99999999999999999999999"})
    EXPECT_THROW(parse_count("limit", bad, 1, 100), usage_error) << bad;
}
