#include "redis/resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace reel::redis {

namespace {

// Consumed bytes are erased once they are at least this many and at least
// half the buffer: amortized linear, and a steady stream of small replies
// does not move memory on every feed.
constexpr std::size_t k_compact_after = 4096;

// Arrays reserve at most this many elements up front: the count is the
// peer's claim, the memory is ours.
constexpr std::size_t k_reserve_cap = 1024;

[[noreturn]] void fail(const std::string& why) { throw protocol_error("redis protocol: " + why); }

std::string printable(std::string_view s) {
  constexpr std::size_t shown = 32;
  std::string out;
  for (char c : s.substr(0, shown)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  if (s.size() > shown) out += "...";
  return out;
}

std::int64_t parse_integer(std::string_view text, const char* what) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail(std::string(what) + " is not an integer: \"" + printable(text) + "\"");
  return n;
}

// A bulk or array length: -1 (nil) or 0..limit.
std::int64_t parse_length(std::string_view text, std::size_t limit, const char* what) {
  std::int64_t n = parse_integer(text, what);
  if (n < -1) fail(std::string(what) + " is negative: " + std::to_string(n));
  if (n > 0 && static_cast<std::uint64_t>(n) > limit)
    fail(std::string(what) + " " + std::to_string(n) + " is over the limit of " + std::to_string(limit));
  return n;
}

template <class Args>
void append_args(std::string& out, const Args& args) {
  std::size_t size = 16;
  for (const auto& a : args) size += a.size() + 16;
  out.reserve(out.size() + size);
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const auto& a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out.append(a.data(), a.size());
    out += "\r\n";
  }
}

}  // namespace

parser::parser(parser_limits l) : limits_(l) {}

void parser::feed(std::string_view bytes) {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= k_compact_after && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void parser::reset() {
  buf_.clear();
  pos_ = scanned_ = 0;
  bulk_ = -1;
  stack_.clear();
}

std::optional<std::string_view> parser::take_line() {
  auto cr = buf_.find('\r', pos_ + scanned_);
  if (cr == std::string::npos || cr + 1 == buf_.size()) {
    // Resume the search where it stopped (at a CR whose LF has not come yet).
    scanned_ = (cr == std::string::npos ? buf_.size() : cr) - pos_;
    if (scanned_ > limits_.max_line)
      fail("a line is longer than " + std::to_string(limits_.max_line) + " bytes without CRLF");
    return std::nullopt;
  }
  if (buf_[cr + 1] != '\n') fail("CR not followed by LF");
  if (cr - pos_ > limits_.max_line) fail("a line is longer than " + std::to_string(limits_.max_line) + " bytes");
  std::string_view line(buf_.data() + pos_, cr - pos_);
  pos_ = cr + 2;
  scanned_ = 0;
  return line;
}

std::optional<value> parser::take_bulk() {
  auto length = static_cast<std::size_t>(bulk_);
  if (buf_.size() - pos_ < length + 2) return std::nullopt;
  if (buf_[pos_ + length] != '\r' || buf_[pos_ + length + 1] != '\n')
    fail("bulk string of " + std::to_string(length) + " bytes not followed by CRLF");
  value v = value::bulk(buf_.substr(pos_, length));
  pos_ += length + 2;
  bulk_ = -1;
  return v;
}

std::optional<value> parser::take_array(std::string_view count, bool& progressed) {
  std::int64_t n = parse_length(count, limits_.max_elements, "array length");
  if (n == -1) return value::nil();
  if (stack_.size() >= static_cast<std::size_t>(std::max(limits_.max_depth, 0)))
    fail("arrays nested deeper than " + std::to_string(limits_.max_depth));
  if (n == 0) return value::array({});
  frame f{value::array({}), static_cast<std::size_t>(n)};
  f.array.elements.reserve(std::min(f.remaining, k_reserve_cap));
  stack_.push_back(std::move(f));
  progressed = true;
  return std::nullopt;
}

std::optional<value> parser::take_item(bool& progressed) {
  if (bulk_ >= 0) return take_bulk();
  auto line = take_line();
  if (!line) return std::nullopt;
  if (line->empty()) fail("empty line where a type byte was expected");
  std::string_view rest = line->substr(1);
  switch ((*line)[0]) {
    case '+':
      return value::simple(std::string(rest));
    case '-':
      return value::error(std::string(rest));
    case ':':
      return value::number(parse_integer(rest, "integer reply"));
    case '$':
      bulk_ = parse_length(rest, limits_.max_bulk, "bulk length");
      if (bulk_ == -1) return value::nil();
      return take_bulk();
    case '*':
      return take_array(rest, progressed);
    default:
      fail("unexpected type byte \"" + printable(line->substr(0, 1)) + "\"");
  }
}

std::optional<value> parser::next() {
  for (;;) {
    bool progressed = false;
    auto item = take_item(progressed);
    if (!item) {
      if (progressed) continue;  // an array header: its elements come next
      return std::nullopt;
    }
    // Complete the arrays this item finishes, innermost first.
    while (!stack_.empty()) {
      auto& top = stack_.back();
      top.array.elements.push_back(std::move(*item));
      if (--top.remaining > 0) break;
      item = std::move(top.array);
      stack_.pop_back();
    }
    if (stack_.empty()) return item;
  }
}

void append_command(std::string& out, std::span<const std::string> args) { append_args(out, args); }

std::string encode(std::span<const std::string> args) {
  std::string out;
  append_args(out, args);
  return out;
}

std::string encode(std::initializer_list<std::string_view> args) {
  std::string out;
  append_args(out, args);
  return out;
}

}  // namespace reel::redis
