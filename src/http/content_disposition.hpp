// Content-Disposition for a download (RFC 6266, with RFC 5987's filename*
// for names that are not plain ASCII). Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace reel::http {

// The two spellings of a download's file name, `extension` (".mp4") added.
struct download_name {
  std::string ascii;  // filename=: printable ASCII, no '"', '\\', '%' or '/'
  std::string utf8;   // filename*: the name itself, valid UTF-8
};

// The file name for something titled `title` (UTF-8, possibly invalid):
// control characters (C0, DEL, C1) and path separators ('/', '\\') are
// dropped, '"' becomes '\'', the other characters Windows refuses in names
// (<>:|?*) become '_', bytes that are not UTF-8 become U+FFFD, spaces and
// dots are trimmed from both ends, and the name is cut (at a character
// boundary) to 150 bytes of UTF-8. In the ASCII form, '%' and every
// non-ASCII character become '_'; an ASCII form with no letter or digit
// left, or an empty name, is "video". `extension` must be plain ASCII.
download_name make_download_name(std::string_view title, std::string_view extension);

// `attachment; filename="<ascii>"; filename*=UTF-8''<utf8, percent-encoded>`.
std::string attachment_disposition(std::string_view title, std::string_view extension);

}  // namespace reel::http
