// The caption parser (src/media/captions.hpp) on WebVTT or SRT bytes.
// Invariants: a refusal is error(bad_request) naming a line within the
// input, or error(payload_too_large) only past the limit; an accepted file
// gives valid normalized WebVTT (starts with WEBVTT, LF endings, no NUL, no
// blank-only line inside a block) that normalizes to itself, no more than
// a bounded amount longer than the input.
#include "media/captions.hpp"
#include "core/errors.hpp"
#include "fuzz.hpp"

#include <string>

using reel::media::caption_format;
using reel::media::normalize_captions;

namespace {

std::size_t lines_in(std::string_view s) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  const caption_format format = in.flag() ? caption_format::srt : caption_format::webvtt;
  const std::string_view bytes = in.rest();
  std::string out;
  try {
    out = normalize_captions(bytes, format);
  } catch (const reel::error& e) {
    std::string_view message = e.what();
    if (e.code() == reel::errc::payload_too_large) {
      FUZZ_CHECK(bytes.size() > reel::media::k_max_caption_bytes);
      return 0;
    }
    FUZZ_CHECK(e.code() == reel::errc::bad_request);
    if (message.starts_with("line ")) {
      std::size_t line = std::stoul(std::string(message.substr(5, message.find(':') - 5)));
      FUZZ_CHECK(line >= 1 && line <= lines_in(bytes));
    } else {
      FUZZ_CHECK(message == "The caption file is empty." || message == "The caption file has no cues.");
    }
    return 0;
  }
  FUZZ_CHECK(out.starts_with("WEBVTT"));
  FUZZ_CHECK(out.ends_with('\n'));
  FUZZ_CHECK(out.find('\r') == std::string::npos);
  FUZZ_CHECK(out.find('\0') == std::string::npos);
  FUZZ_CHECK(out.find("-->") != std::string::npos);
  // Timestamps grow by at most 5 bytes each ("0:00:00,000" → "00:00:00.000", "00.000" → "00:00:00.000"),
  // "WEBVTT\n" and " --> " are added, cue numbers dropped.
  FUZZ_CHECK(out.size() <= 3 * bytes.size() + 16);
  FUZZ_CHECK(normalize_captions(out, caption_format::webvtt) == out);
  return 0;
}
