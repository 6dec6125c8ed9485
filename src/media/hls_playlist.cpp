#include "media/hls_playlist.hpp"

namespace reel::media {

namespace {

// A tag line: each URI="..." attribute value gets the parameter.
void rewrite_tag(std::string& out, std::string_view line, std::string_view parameter) {
  constexpr std::string_view key = "URI=\"";
  std::size_t at = 0;
  for (;;) {
    std::size_t found = line.find(key, at);
    // Only an attribute: after ':' or ',' (not inside another attribute's quoted value, which
    // cannot hold '"' by RFC 8216 4.2).
    if (found == std::string_view::npos) break;
    bool attribute = found > 0 && (line[found - 1] == ':' || line[found - 1] == ',');
    std::size_t value_start = found + key.size();
    std::size_t close = line.find('"', value_start);
    if (close == std::string_view::npos) break;
    out.append(line.substr(at, value_start - at));
    std::string_view value = line.substr(value_start, close - value_start);
    if (attribute && !value.empty())
      append_query_parameter(out, value, parameter);
    else
      out.append(value);
    at = close;
  }
  out.append(line.substr(at));
}

}  // namespace

void append_query_parameter(std::string& out, std::string_view uri, std::string_view parameter) {
  std::size_t hash = uri.find('#');
  std::string_view before = hash == std::string_view::npos ? uri : uri.substr(0, hash);
  out.append(before);
  if (before.find('?') == std::string_view::npos)
    out.push_back('?');
  else if (!before.ends_with('?') && !before.ends_with('&'))
    out.push_back('&');
  out.append(parameter);
  out.append(uri.substr(before.size()));
}

std::string add_query_to_playlist(std::string_view playlist, std::string_view parameter) {
  std::string out;
  out.reserve(playlist.size() + playlist.size() / 4 + 64);
  std::size_t pos = 0;
  while (pos < playlist.size()) {
    std::size_t nl = playlist.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? playlist.size() : nl;
    std::string_view line = playlist.substr(pos, end - pos);
    std::string_view ending;
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
      ending = "\r";
    }
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
      out.append(line);
    else if (line[first] == '#')
      rewrite_tag(out, line, parameter);
    else
      append_query_parameter(out, line, parameter);
    out.append(ending);
    if (nl != std::string_view::npos) out.push_back('\n');
    pos = end + 1;
  }
  return out;
}

}  // namespace reel::media
