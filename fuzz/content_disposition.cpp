// The download file name (src/http/content_disposition.hpp). Invariants:
// the header has no control character (it cannot split or end a header);
// the ASCII form is printable ASCII without '"', '\\', '%' or '/'; the UTF-8
// form is valid UTF-8 without control characters or path separators, at
// most 150 bytes before the extension, not empty, and cleaning it again
// changes nothing; filename* percent-decodes to the UTF-8 form.
#include "http/content_disposition.hpp"
#include "fuzz.hpp"

#include <string>

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80                 ? 1
                    : c >= 0xC2 && c <= 0xDF ? 2
                    : c >= 0xE0 && c <= 0xEF ? 3
                    : c >= 0xF0 && c <= 0xF4 ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  const std::string_view title = in.rest();
  auto n = reel::http::make_download_name(title, ".mp4");

  FUZZ_CHECK(n.ascii.ends_with(".mp4") && n.ascii.size() > 4);
  for (char c : n.ascii) FUZZ_CHECK(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' && c != '/');
  FUZZ_CHECK(n.utf8.ends_with(".mp4") && n.utf8.size() > 4 && n.utf8.size() <= 154);
  FUZZ_CHECK(valid_utf8(n.utf8));
  for (char c : n.utf8) {
    auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f && c != '/' && c != '\\' && c != '"');
  }
  std::string stem = n.utf8.substr(0, n.utf8.size() - 4);
  FUZZ_CHECK(reel::http::make_download_name(stem, ".mp4").utf8 == n.utf8);

  std::string header = reel::http::attachment_disposition(title, ".mp4");
  for (char c : header) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  const std::string_view marker = "filename*=UTF-8''";
  auto at = header.find(marker);
  FUZZ_CHECK(at != std::string::npos);
  std::string decoded;
  std::string_view encoded = std::string_view(header).substr(at + marker.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      decoded += encoded[i];
      continue;
    }
    FUZZ_CHECK(i + 2 < encoded.size() && hex(encoded[i + 1]) >= 0 && hex(encoded[i + 2]) >= 0);
    decoded += static_cast<char>(hex(encoded[i + 1]) * 16 + hex(encoded[i + 2]));
    i += 2;
  }
  FUZZ_CHECK(decoded == n.utf8);
  return 0;
}
