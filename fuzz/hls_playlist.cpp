// Rewriting HLS playlists for a playback link (src/media/hls_playlist.hpp).
// Invariants: the output keeps every line (same count, same tags and
// comments apart from URI attributes); each URI line ends up carrying the
// parameter; the output grows by at most the parameter (and a separator) per
// line and URI attribute.
#include "media/hls_playlist.hpp"
#include "fuzz.hpp"

#include <string>

namespace {

std::size_t count(std::string_view s, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  const std::string parameter = "token=p.1800000000.abcDEF-_" + std::string(in.upto(3), 'x');
  const std::string_view playlist = in.rest();

  const std::string out = reel::media::add_query_to_playlist(playlist, parameter);
  FUZZ_CHECK(count(out, "\n") == count(playlist, "\n"));
  const std::size_t slots = count(playlist, "\n") + 1 + count(playlist, "URI=\"");
  FUZZ_CHECK(out.size() <= playlist.size() + slots * (parameter.size() + 1));
  FUZZ_CHECK(out.size() >= playlist.size());

  // Line by line: tags and blank lines start as they did; URI lines carry the parameter.
  std::size_t a = 0, b = 0;
  while (a <= playlist.size() && b <= out.size()) {
    std::size_t ea = playlist.find('\n', a), eb = out.find('\n', b);
    std::string_view la = playlist.substr(a, ea == std::string_view::npos ? std::string_view::npos : ea - a);
    std::string_view lb = std::string_view(out).substr(b, eb == std::string::npos ? std::string::npos : eb - b);
    std::size_t first = la.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
      FUZZ_CHECK(la == lb);
    else if (la[first] == '#')
      FUZZ_CHECK(lb.substr(0, first + 1) == la.substr(0, first + 1));
    else
      FUZZ_CHECK(lb.find(parameter) != std::string_view::npos);
    if (ea == std::string_view::npos) break;
    a = ea + 1;
    b = eb + 1;
  }
  return 0;
}
