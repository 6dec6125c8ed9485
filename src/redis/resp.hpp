// RESP2, the Redis wire protocol: an incremental parser for replies and the
// encoding of commands. Pure functions and values; no I/O, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reel::redis {

// One reply, or one element of an array reply.
struct value {
  enum class kind { simple, error, integer, bulk, nil, array };
  kind type = kind::nil;
  std::string text;             // simple, error, bulk
  std::int64_t integer = 0;     // integer
  std::vector<value> elements;  // array

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
  bool is_integer() const noexcept { return type == kind::integer; }
  bool is_array() const noexcept { return type == kind::array; }
  // A simple or bulk string: the kinds whose `text` is the payload.
  bool is_string() const noexcept { return type == kind::simple || type == kind::bulk; }

  static value simple(std::string s) { return {kind::simple, std::move(s), 0, {}}; }
  static value error(std::string s) { return {kind::error, std::move(s), 0, {}}; }
  static value bulk(std::string s) { return {kind::bulk, std::move(s), 0, {}}; }
  static value number(std::int64_t n) { return {kind::integer, {}, n, {}}; }
  static value nil() { return {}; }
  static value array(std::vector<value> e) { return {kind::array, {}, 0, std::move(e)}; }

  friend bool operator==(const value&, const value&) = default;
};

// What a reply may hold before the parser gives up on the connection.
struct parser_limits {
  std::size_t max_bulk = 64 << 20;     // bytes in one bulk string
  std::size_t max_elements = 1 << 20;  // elements in one array
  int max_depth = 8;                   // arrays nested in arrays; a top-level array is depth 1
  std::size_t max_line = 64 << 10;     // bytes of a +, -, :, $ or * line before its CRLF
};

// Malformed or oversized input. The stream cannot be resynchronized: the
// connection it came from must be closed (and the parser reset or dropped).
class protocol_error : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

// Incremental RESP2 parser: feed bytes as they arrive, take complete values
// out. Linear in the input however it is split (a bulk fed one byte at a time
// is not re-scanned); consumed bytes are dropped as it goes.
class parser {
 public:
  explicit parser(parser_limits l = {});

  void feed(std::string_view bytes);
  // The next complete value, or nullopt until more bytes come. Throws
  // protocol_error on malformed input: a bad type byte, a length or integer
  // that is not a number, a negative length other than -1, a bulk not
  // followed by CRLF, a CR not followed by LF, or anything over a limit.
  std::optional<value> next();
  // Forgets everything fed and any value in progress.
  void reset();
  // Bytes fed and not consumed yet.
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  struct frame {
    value array;
    std::size_t remaining;
  };
  std::optional<std::string_view> take_line();
  std::optional<value> take_bulk();
  // Reads one item: a scalar value, or an array header (pushed on the stack,
  // nullopt returned with `progressed` set). nullopt without `progressed`:
  // more bytes needed.
  std::optional<value> take_item(bool& progressed);
  std::optional<value> take_array(std::string_view count, bool& progressed);

  parser_limits limits_;
  std::string buf_;
  std::size_t pos_ = 0;       // the first byte not consumed
  std::size_t scanned_ = 0;   // bytes after pos_ already searched for a CR
  std::int64_t bulk_ = -1;    // a bulk whose header is read: its length; else -1
  std::vector<frame> stack_;  // arrays being filled, outermost first
};

// A command as a RESP array of bulk strings (binary-safe: any byte may occur).
std::string encode(std::span<const std::string> args);
std::string encode(std::initializer_list<std::string_view> args);
// The same, appended to `out` (a writer batching several commands).
void append_command(std::string& out, std::span<const std::string> args);

}  // namespace reel::redis
