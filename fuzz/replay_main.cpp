// Replays files through one fuzz target's LLVMFuzzerTestOneInput, without
// libFuzzer: `make test` runs every corpus file and crash reproducer this way
// (release and ASan/UBSan builds, g++). Every target is linked in, its entry
// point renamed reel_fuzz_one_<name> (fuzz/CMakeLists.txt). Usage:
// fuzz_replay TARGET FILE_OR_DIR...: directories give their regular files,
// sorted; a missing directory is skipped. An input that breaks an invariant
// aborts, and the test fails.
#include "fuzz.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

#define REEL_FUZZ_TARGET(name) extern "C" int reel_fuzz_one_##name(const std::uint8_t* data, std::size_t size);
#include "fuzz_targets.inc"
#undef REEL_FUZZ_TARGET

namespace {

struct target {
  std::string_view name;
  int (*one)(const std::uint8_t* data, std::size_t size);
};

constexpr target k_targets[] = {
#define REEL_FUZZ_TARGET(name) {#name, reel_fuzz_one_##name},
#include "fuzz_targets.inc"
#undef REEL_FUZZ_TARGET
};

}  // namespace

int main(int argc, char** argv) {
  const target* chosen = nullptr;
  for (const auto& t : k_targets)
    if (argc > 1 && t.name == argv[1]) chosen = &t;
  if (!chosen) {
    std::cerr << "usage: fuzz_replay TARGET FILE_OR_DIR...; targets:";
    for (const auto& t : k_targets) std::cerr << ' ' << t.name;
    std::cerr << '\n';
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "fuzz replay: no input files\n";
    return 1;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::cerr << "replay " << f.filename().string() << " (" << bytes.size() << " bytes)\n";
    chosen->one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << "fuzz replay: " << files.size() << " inputs passed\n";
  return 0;
}
