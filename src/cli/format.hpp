// How the client commands show numbers to people.
#pragma once

#include <string>

namespace reel::cli {

// 1536 → "1.5 KiB"; 12 → "12 B".
std::string human_bytes(double n);

// 75.4 → "1:15"; 3725 → "1:02:05"; "--:--" for a negative or infinite value.
std::string human_duration(double seconds);

}  // namespace reel::cli
