#include "mail/smtp_reply.hpp"

#include <algorithm>

namespace reel::mail {

reply_line add_reply_line(smtp_reply& r, std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  bool shaped = line.size() >= 3 &&
                std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }) &&
                (line.size() == 3 || line[3] == ' ' || line[3] == '-');
  if (!shaped) return reply_line::malformed;
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (!r.lines.empty() && code != r.code) return reply_line::code_changed;
  r.code = code;
  r.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
  return line.size() == 3 || line[3] == ' ' ? reply_line::last : reply_line::more;
}

}  // namespace reel::mail
