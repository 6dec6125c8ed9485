// The replies of an SMTP server (RFC 5321 4.2): "NNN text" lines, the last
// of a multiline reply with a space after its code, the others with a dash.
// Pure functions over the lines the server sent; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reel::mail {

struct smtp_reply {
  int code = 0;
  std::vector<std::string> lines;  // the text after "NNN-" / "NNN "
};

enum class reply_line {
  more,          // a "NNN-" line: the reply goes on
  last,          // a "NNN " or bare "NNN" line: the reply is complete
  malformed,     // not three digits followed by a space, a dash or nothing
  code_changed,  // a later line of a multiline reply has another code
};

// Adds one line (its CRLF or LF, if still there, is dropped) to `r`. `r` is
// unchanged unless the line is `more` or `last`.
reply_line add_reply_line(smtp_reply& r, std::string_view line);

}  // namespace reel::mail
