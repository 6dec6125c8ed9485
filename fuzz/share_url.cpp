// The oEmbed url parser (src/api/share_url.hpp) and the escapes the pages
// use. Invariants: an accepted url names a valid id and, when it has one, a
// token of printable ASCII within bounds; the target written back
// (share_path) parses to itself, and so does it behind any http(s) origin;
// html_escape leaves no character that ends text or an attribute;
// url_encode leaves only unreserved characters and %XX.
#include "api/share_url.hpp"
#include "fuzz.hpp"

#include <string>

using reel::api::parse_share_url;
using reel::api::share_target;

namespace {

bool same(const share_target& a, const share_target& b) {
  return a.kind == b.kind && a.video_id == b.video_id && a.token == b.token;
}

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

void check_escapes(std::string_view text) {
  for (char c : reel::api::html_escape(text)) FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'');
  std::string enc = reel::api::url_encode(text);
  for (std::size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%') {
      FUZZ_CHECK(i + 2 < enc.size());
      i += 2;
    } else {
      FUZZ_CHECK(is_unreserved(enc[i]));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  const bool https = in.flag();
  const std::string_view url = in.rest();
  check_escapes(url);

  auto t = parse_share_url(url);
  if (!t) return 0;
  FUZZ_CHECK(!t->video_id.empty() && t->video_id.size() <= 64);
  for (char c : t->video_id)
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
  if (t->token) {
    FUZZ_CHECK(!t->token->empty() && t->token->size() <= reel::api::k_max_token_bytes);
    for (char c : *t->token) FUZZ_CHECK(c > 0x20 && c < 0x7f);
  }

  const std::string path = reel::api::share_path(*t);
  auto again = parse_share_url(path);
  FUZZ_CHECK(again && same(*again, *t));
  auto absolute = parse_share_url((https ? "https://videos.example:8443" : "http://localhost") + path);
  FUZZ_CHECK(absolute && same(*absolute, *t));
  return 0;
}
