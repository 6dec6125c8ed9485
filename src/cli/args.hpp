// The flags of the client commands (`reel login`, `reel videos ...`):
// "--name VALUE", "--name=VALUE", switches "--name" (and one-letter aliases
// such as "-y"), "--" ends the flags; everything else is positional, a word
// with one dash and more than one letter ("-Fx4guji9aub0AEV", an id) included.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace reel::cli {

// Bad usage: the command prints the message and exits 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct flag_spec {
  std::string name;          // without the dashes: "limit"
  bool takes_value = false;  // "--limit 5" rather than "--yes"
  char alias = 0;            // 'y' for "-y"; 0 for none
};

struct parsed_args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // flags with a value (the last one given wins)
  std::set<std::string> switches;             // flags without one

  bool has(const std::string& name) const { return switches.count(name) > 0 || values.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
};

// Parses `args` against `spec`. Throws usage_error naming the flag for an
// unknown flag, a missing value, or a value given to a switch; `command`
// ("reel videos list") is named in the hint to its --help.
parsed_args parse_args(const std::vector<std::string>& args, const std::vector<flag_spec>& spec,
                       const std::string& command);

// A whole number from `min` to `max` given to --`flag`; throws usage_error.
long parse_count(const std::string& flag, const std::string& text, long min, long max);

}  // namespace reel::cli
