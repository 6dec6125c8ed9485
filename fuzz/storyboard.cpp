// Storyboard names and WebVTT (src/media/storyboard.hpp): the sprite name a
// client puts in a URL, the cues written for any probed size and duration,
// and the rewriting of a WebVTT for a playback link.
// Invariants: a name is accepted only in its one spelling, and names a
// sheet from 1; every plan has at least one tile and sheets that hold them,
// its WebVTT has one cue per tile, contiguous from 0 to the duration, each
// inside its sheet; the rewrite keeps every line and gives the parameter to
// each cue payload, growing by at most the parameter and a separator a line.
#include "media/storyboard.hpp"
#include "fuzz.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace {

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

void check_plan(reel::fuzz::input& in) {
  reel::media::probe_result p;
  p.width = static_cast<int>(in.upto(8192));
  p.height = static_cast<int>(in.upto(8192));
  p.duration_sec = static_cast<double>(in.upto(6 * 3600 * 1000)) / 1000.0;
  auto plan = reel::media::plan_storyboard(p);
  FUZZ_CHECK(plan.tiles >= 1 && plan.interval_sec >= 2 && plan.interval_sec <= 10);
  FUZZ_CHECK(plan.tile_width >= 2 && plan.tile_width <= 160 && plan.tile_height >= 2 && plan.tile_height <= 320);
  FUZZ_CHECK(plan.tile_width % 2 == 0 && plan.tile_height % 2 == 0);
  FUZZ_CHECK(plan.columns >= 1 && plan.columns <= 10 && plan.rows >= 1 && plan.rows <= 10);
  FUZZ_CHECK(plan.sheets() * plan.columns * plan.rows >= plan.tiles);
  FUZZ_CHECK((plan.sheets() - 1) * plan.columns * plan.rows < plan.tiles);
  std::string vtt = reel::media::storyboard_vtt(plan, p.duration_sec, plan.sheets());
  FUZZ_CHECK(vtt.starts_with("WEBVTT\n"));
  FUZZ_CHECK(static_cast<int>(count(vtt, " --> ")) == plan.tiles);
  // The last cue's end is the duration (at least 1 ms), as a WebVTT timestamp.
  long long ms = std::llround(std::max(p.duration_sec, 0.001) * 1000);
  char end[96];
  std::snprintf(end, sizeof end, " --> %02lld:%02lld:%02lld.%03lld\n", ms / 3'600'000, ms / 60'000 % 60, ms / 1000 % 60,
                ms % 1000);
  FUZZ_CHECK(vtt.find(end) != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  check_plan(in);
  std::string_view name = in.text();
  if (auto sheet = reel::media::parse_sprite_name(name)) {
    FUZZ_CHECK(*sheet >= 1 && *sheet <= 9999);
    FUZZ_CHECK(reel::media::sprite_name(*sheet) == name);
  }
  const std::string parameter = "token=p.1800000000.abcDEF-_" + std::string(in.upto(3), 'x');
  const std::string_view vtt = in.rest();
  const std::string out = reel::media::add_query_to_storyboard(vtt, parameter);
  FUZZ_CHECK(count(out, "\n") == count(vtt, "\n"));
  FUZZ_CHECK(out.size() >= vtt.size());
  FUZZ_CHECK(out.size() <= vtt.size() + (count(vtt, "\n") + 1) * (parameter.size() + 1));
  FUZZ_CHECK(count(out, parameter) >= count(vtt, parameter));
  return 0;
}
