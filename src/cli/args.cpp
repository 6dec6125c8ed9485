#include "cli/args.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace reel::cli {

std::optional<std::string> parsed_args::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

namespace {

const flag_spec* find_flag(const std::vector<flag_spec>& spec, const std::string& arg) {
  auto it = std::find_if(spec.begin(), spec.end(), [&](const flag_spec& f) {
    return arg == "--" + f.name || (f.alias != 0 && arg.size() == 2 && arg[0] == '-' && arg[1] == f.alias);
  });
  return it == spec.end() ? nullptr : &*it;
}

}  // namespace

parsed_args parse_args(const std::vector<std::string>& args, const std::vector<flag_spec>& spec,
                       const std::string& command) {
  parsed_args out;
  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    // A word with one dash and more than one letter after it is no flag here
    // (short flags are single letters and never bundled): it is an argument,
    // such as a video id that begins with "-".
    if (flags_ended || a.size() < 2 || a[0] != '-' || (a[1] != '-' && a.size() > 2)) {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_ended = true;
      continue;
    }
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a.resize(eq);
    }
    const flag_spec* f = find_flag(spec, a);
    if (f == nullptr) throw usage_error("Unknown flag " + a + "; `" + command + " --help` lists the flags.");
    if (!f->takes_value) {
      if (inline_value) throw usage_error("The flag --" + f->name + " takes no value.");
      out.switches.insert(f->name);
    } else if (inline_value) {
      out.values[f->name] = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw usage_error("The flag --" + f->name + " needs a value.");
      out.values[f->name] = args[++i];
    }
  }
  return out;
}

long parse_count(const std::string& flag, const std::string& text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    throw usage_error("--" + flag + " must be a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ".");
  return n;
}

}  // namespace reel::cli
