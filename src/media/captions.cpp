#include "media/captions.hpp"

#include "core/errors.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <vector>

namespace reel::media {

namespace {

struct line {
  std::string_view text;
  std::size_t number;  // 1-based, as an editor shows it
};

[[noreturn]] void bad_line(std::size_t number, const std::string& what) {
  throw error(errc::bad_request, "line " + std::to_string(number) + ": " + what);
}

// Whether `s` is valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (n == 0 || c > 0xF4 || i + n >= s.size()) return false;
    char32_t cp = c & (0x3F >> n);
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    constexpr char32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// The lines of `text` (LF, CRLF or CR endings), each checked for UTF-8 and NUL.
std::vector<line> split_lines(std::string_view text) {
  std::vector<line> out;
  std::size_t pos = 0, number = 1;
  while (pos <= text.size()) {
    std::size_t end = text.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    if (l.find('\0') != std::string_view::npos) bad_line(number, "a NUL character");
    if (!valid_utf8(l)) bad_line(number, "invalid UTF-8");
    out.push_back({l, number++});
    if (end == text.size()) break;
    pos = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
    if (pos == text.size()) break;  // a final line ending starts no line
  }
  return out;
}

// Runs of non-blank lines, in order.
std::vector<std::vector<line>> blocks_of(const std::vector<line>& lines, std::size_t from) {
  std::vector<std::vector<line>> out;
  bool open = false;
  for (std::size_t i = from; i < lines.size(); ++i) {
    if (blank(lines[i].text)) {
      open = false;
      continue;
    }
    if (!open) out.emplace_back();
    open = true;
    out.back().push_back(lines[i]);
  }
  return out;
}

bool all_digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::int64_t number_of(std::string_view s) {
  std::int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// A timestamp in milliseconds: WebVTT's [hh:]mm:ss.ttt (hours of 2 or
// more digits), or SRT's h:mm:ss,ttt (also with a dot).
std::optional<std::int64_t> parse_timestamp(std::string_view s, caption_format f) {
  auto last_sep = s.find_last_of(f == caption_format::srt ? ",." : ".");
  if (last_sep == std::string_view::npos || !all_digits(s.substr(last_sep + 1), 3, 3)) return std::nullopt;
  std::string_view clock = s.substr(0, last_sep);
  std::vector<std::string_view> parts;
  for (std::size_t at = 0;;) {
    auto colon = clock.find(':', at);
    parts.push_back(clock.substr(at, colon == std::string_view::npos ? std::string_view::npos : colon - at));
    if (colon == std::string_view::npos) break;
    at = colon + 1;
  }
  std::int64_t hours = 0;
  if (parts.size() == 3) {
    std::size_t min_hour_digits = f == caption_format::srt ? 1 : 2;
    if (!all_digits(parts[0], min_hour_digits, 6)) return std::nullopt;
    hours = number_of(parts[0]);
  } else if (parts.size() != 2 || f == caption_format::srt) {
    return std::nullopt;
  }
  std::string_view mm = parts[parts.size() - 2], ss = parts.back();
  if (!all_digits(mm, 2, 2) || !all_digits(ss, 2, 2) || number_of(mm) > 59 || number_of(ss) > 59) return std::nullopt;
  return ((hours * 60 + number_of(mm)) * 60 + number_of(ss)) * 1000 + number_of(s.substr(last_sep + 1));
}

std::string format_timestamp(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(ms / 3600000),
                static_cast<long long>(ms / 60000 % 60), static_cast<long long>(ms / 1000 % 60),
                static_cast<long long>(ms % 1000));
  return buf;
}

// A timing line ("start --> end [settings]") as normalized WebVTT. SRT's
// coordinates (X1:...) are dropped; WebVTT's settings are kept, one space apart.
std::string timing_line(const line& l, caption_format f) {
  auto arrow = l.text.find("-->");
  std::string_view start = trim(l.text.substr(0, arrow));
  std::string_view rest = trim(l.text.substr(arrow + 3));
  auto space = rest.find_first_of(" \t");
  std::string_view end = rest.substr(0, space);
  std::string_view settings = space == std::string_view::npos ? std::string_view{} : trim(rest.substr(space));
  auto from = parse_timestamp(start, f);
  if (!from) bad_line(l.number, "bad timestamp '" + std::string(start) + "'");
  auto to = parse_timestamp(end, f);
  if (!to) bad_line(l.number, "bad timestamp '" + std::string(end) + "'");
  if (*to < *from)
    bad_line(l.number,
             "the cue ends (" + format_timestamp(*to) + ") before it starts (" + format_timestamp(*from) + ")");
  if (settings.find("-->") != std::string_view::npos) bad_line(l.number, "two '-->' on one timing line");
  std::string out = format_timestamp(*from) + " --> " + format_timestamp(*to);
  if (f == caption_format::webvtt && !settings.empty()) {
    for (std::size_t at = 0; at < settings.size();) {
      auto next = settings.find_first_of(" \t", at);
      std::string_view word = settings.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
      if (!word.empty()) out.append(" ").append(word);
      if (next == std::string_view::npos) break;
      at = next + 1;
    }
  }
  return out;
}

// One cue: its timing line at block[timing], its text after.
void append_cue(std::string& out, const std::vector<line>& block, std::size_t timing, caption_format f) {
  out.push_back('\n');
  if (timing == 1) out.append(block[0].text).push_back('\n');  // a WebVTT cue identifier
  out.append(timing_line(block[timing], f)).push_back('\n');
  for (std::size_t i = timing + 1; i < block.size(); ++i) {
    if (block[i].text.find("-->") != std::string_view::npos)
      bad_line(block[i].number, "'-->' in a cue's text (a blank line must come before the next cue)");
    out.append(block[i].text).push_back('\n');
  }
}

bool starts_word(std::string_view text, std::string_view word) {
  return text.starts_with(word) &&
         (text.size() == word.size() || text[word.size()] == ' ' || text[word.size()] == '\t');
}

std::string webvtt(const std::vector<line>& lines) {
  if (lines.empty() || !starts_word(lines[0].text, "WEBVTT")) bad_line(1, "a WebVTT file must start with 'WEBVTT'");
  std::string out(lines[0].text);
  out.push_back('\n');
  std::size_t i = 1;
  for (; i < lines.size() && !blank(lines[i].text); ++i) {
    if (lines[i].text.find("-->") != std::string_view::npos)
      bad_line(lines[i].number, "a blank line must come between the header and the first cue");
    out.append(lines[i].text).push_back('\n');
  }
  std::size_t cues = 0;
  for (const auto& block : blocks_of(lines, i)) {
    std::string_view first = block[0].text;
    if (first.find("-->") == std::string_view::npos &&
        (starts_word(first, "NOTE") || starts_word(first, "STYLE") || starts_word(first, "REGION"))) {
      out.push_back('\n');
      for (const auto& l : block) {
        if (l.text.find("-->") != std::string_view::npos)
          bad_line(l.number, "'-->' inside a " + std::string(first.substr(0, first.find_first_of(" \t"))) + " block");
        out.append(l.text).push_back('\n');
      }
      continue;
    }
    std::size_t timing = first.find("-->") != std::string_view::npos ? 0 : 1;
    if (timing == 1 && (block.size() < 2 || block[1].text.find("-->") == std::string_view::npos))
      bad_line(block[block.size() < 2 ? 0 : 1].number,
               "expected a cue timing line such as '00:00:01.000 --> 00:00:04.000'");
    append_cue(out, block, timing, caption_format::webvtt);
    ++cues;
  }
  if (cues == 0) throw error(errc::bad_request, "The caption file has no cues.");
  return out;
}

std::string srt(const std::vector<line>& lines) {
  std::string out = "WEBVTT\n";
  std::size_t cues = 0;
  for (const auto& block : blocks_of(lines, 0)) {
    std::string_view first = trim(block[0].text);
    std::size_t timing = 0;
    if (first.find("-->") == std::string_view::npos) {
      if (!all_digits(first, 1, 18)) bad_line(block[0].number, "expected a cue number or a timing line");
      if (block.size() < 2 || block[1].text.find("-->") == std::string_view::npos)
        bad_line(block[block.size() < 2 ? 0 : 1].number,
                 "expected a cue timing line such as '00:00:01,000 --> 00:00:04,000'");
      timing = 1;
    }
    std::vector<line> cue(block.begin() + static_cast<std::ptrdiff_t>(timing), block.end());
    append_cue(out, cue, 0, caption_format::srt);
    ++cues;
  }
  if (cues == 0) throw error(errc::bad_request, "The caption file has no cues.");
  return out;
}

}  // namespace

std::string normalize_captions(std::string_view bytes, caption_format format) {
  if (bytes.size() > k_max_caption_bytes)
    throw error(errc::payload_too_large,
                "The caption file is larger than 2 MiB (" + std::to_string(k_max_caption_bytes) + " bytes).");
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw error(errc::bad_request, "The caption file is empty.");
  auto lines = split_lines(bytes);
  return format == caption_format::webvtt ? webvtt(lines) : srt(lines);
}

std::optional<std::string> canonical_language(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return std::nullopt;
  std::string out;
  std::size_t index = 0;
  for (std::size_t at = 0;; ++index) {
    auto dash = tag.find('-', at);
    std::string_view sub = tag.substr(at, dash == std::string_view::npos ? std::string_view::npos : dash - at);
    bool letters = !sub.empty(), alnum = !sub.empty();
    for (char c : sub) {
      letters = letters && std::isalpha(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80;
      alnum = alnum && std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80;
    }
    if (index == 0 ? !(letters && sub.size() >= 2 && sub.size() <= 3) : !(alnum && sub.size() <= 8))
      return std::nullopt;
    std::string s(sub);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (index > 0 && s.size() == 2 && letters) {
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (index > 0 && s.size() == 4 && letters) {
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    }
    out += (index ? "-" : "") + s;
    if (dash == std::string_view::npos) break;
    at = dash + 1;
  }
  return out;
}

namespace {

std::string quoted_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '"')
      out.push_back('\'');
    else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F)
      out.push_back(c);
  }
  return out;
}

}  // namespace

std::string add_subtitles_to_master(std::string_view master, const std::vector<subtitle_rendition>& tracks) {
  if (tracks.empty()) return std::string(master);
  std::string media;
  for (const auto& t : tracks)
    media += "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"" + quoted_name(t.name) + "\",LANGUAGE=\"" +
             quoted_name(t.language) + "\",DEFAULT=NO,AUTOSELECT=YES,URI=\"" + quoted_name(t.uri) + "\"\n";
  std::string out;
  bool placed = false;
  std::size_t pos = 0;
  while (pos < master.size()) {
    std::size_t nl = master.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? master.size() : nl;
    std::string_view l = master.substr(pos, end - pos);
    if (l.ends_with('\r')) l.remove_suffix(1);
    pos = end + 1;
    if (l.starts_with("#EXT-X-MEDIA:TYPE=SUBTITLES")) continue;  // ours replace any made before
    if (l.starts_with("#EXT-X-STREAM-INF:")) {
      if (!placed) out += media;
      placed = true;
      out.append(l);
      if (l.find("SUBTITLES=") == std::string_view::npos) out += ",SUBTITLES=\"subs\"";
      out.push_back('\n');
      continue;
    }
    out.append(l).push_back('\n');
  }
  if (!placed) out += media;
  return out;
}

std::string subtitles_playlist(std::string_view vtt_uri, double duration_sec) {
  double d = std::isfinite(duration_sec) && duration_sec > 0 ? duration_sec : 1.0;
  char extinf[64];
  std::snprintf(extinf, sizeof extinf, "#EXTINF:%.3f,\n", d);
  return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" + std::to_string(static_cast<long long>(std::ceil(d))) +
         "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" + extinf + std::string(vtt_uri) + "\n#EXT-X-ENDLIST\n";
}

}  // namespace reel::media
