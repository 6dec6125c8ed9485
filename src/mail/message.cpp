#include "mail/message.hpp"

#include "core/digest.hpp"
#include "core/errors.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace reel::mail {

namespace {

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return is_control(static_cast<unsigned char>(c)); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// Where the UTF-8 character that starts at or before `i` starts.
std::size_t char_start(std::string_view s, std::size_t i) {
  while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

// A display name as a phrase: plain atoms as they are, other ASCII quoted,
// anything else encoded.
std::string display_phrase(std::string_view name) {
  if (!printable_ascii(name)) return encode_header_text(name);
  bool atoms = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' ||
           std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
  });
  if (atoms) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string header_address(const address& a) {
  if (a.display.empty()) return a.mailbox;
  return display_phrase(a.display) + " <" + a.mailbox + ">";
}

}  // namespace

bool plain_mailbox(std::string_view m) {
  auto at = m.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= m.size() || m.size() > 254) return false;
  return std::none_of(m.begin(), m.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return is_control(u) || c == ' ' || c == '<' || c == '>' || c == '"' || c == '(' || c == ')' || c == ',' ||
           c == ';' || c == '\\' || c == '[' || c == ']';
  });
}

std::optional<address> parse_address(std::string_view text) {
  if (has_control(text)) return std::nullopt;
  text = trim(text);
  address out;
  auto open = text.rfind('<');
  if (open != std::string_view::npos) {
    if (text.back() != '>') return std::nullopt;
    out.mailbox = std::string(text.substr(open + 1, text.size() - open - 2));
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    out.display = std::string(name);
  } else {
    out.mailbox = std::string(text);
  }
  if (!plain_mailbox(out.mailbox)) return std::nullopt;
  return out;
}

std::string encode_header_text(std::string_view text) {
  if (printable_ascii(text) && text.find("=?") == std::string_view::npos && text.size() <= 900)
    return std::string(text);
  // 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and "?=", 72 per
  // word, within RFC 2047's 75. Words split between characters, never inside one.
  constexpr std::size_t k_bytes_per_word = 45;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + k_bytes_per_word);
    if (end < text.size()) {
      std::size_t cut = char_start(text, end);
      if (cut > i) end = cut;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(text.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (nl == std::string_view::npos && line.empty() && start > 0) break;  // text ended with a newline
    std::size_t width = 0;
    for (std::size_t k = 0; k < line.size(); ++k) {
      auto c = static_cast<unsigned char>(line[k]);
      bool last = k + 1 == line.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      std::string token = literal ? std::string(1, char(c)) : std::string{'=', k_hex[c >> 4], k_hex[c & 15]};
      // A soft break ("=") keeps every line at 76 characters at most.
      std::size_t room = last ? 76 : 75;
      if (width + token.size() > room) {
        out += "=\r\n";
        width = 0;
      }
      out += token;
      width += token.size();
    }
    out += "\r\n";
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string rfc5322_date(sys_time t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  static constexpr const char* k_days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", k_days[tm.tm_wday], tm.tm_mday,
                k_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string compose(const domain::mail_message& m, const address& from, sys_time date, std::string_view message_id) {
  if (has_control(m.to) || !plain_mailbox(m.to))
    throw error(errc::bad_request, "An email's recipient must be one address without line breaks.");
  if (has_control(m.subject)) throw error(errc::bad_request, "An email's subject must be one line.");
  if (has_control(from.display) || !plain_mailbox(from.mailbox))
    throw error(errc::bad_request, "An email's sender must be one address without line breaks.");
  std::string out;
  out += "Date: " + rfc5322_date(date) + "\r\n";
  out += "From: " + header_address(from) + "\r\n";
  out += "To: " + m.to + "\r\n";
  out += "Subject: " + encode_header_text(m.subject) + "\r\n";
  out += "Message-ID: <" + std::string(message_id) + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: quoted-printable\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  out += "\r\n";
  out += quoted_printable(m.text);
  return out;
}

}  // namespace reel::mail
