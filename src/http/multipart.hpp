// A streaming multipart/form-data parser (RFC 7578): bytes are fed in
// whatever chunks the socket delivers; part data is handed on as it is
// found, never held whole. Only the part headers are buffered (bounded).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace reel::http {

// The boundary from a Content-Type like `multipart/form-data; boundary=xyz`,
// or nullopt when the type is not multipart/form-data or the boundary is
// missing or malformed.
std::optional<std::string> multipart_boundary(std::string_view content_type);

class multipart_parser {
 public:
  struct part_info {
    std::string name;
    std::optional<std::string> filename;
    std::string content_type;  // "text/plain" when absent
  };
  class sink {
   public:
    virtual ~sink() = default;
    virtual void on_part_begin(const part_info& part) = 0;
    virtual void on_part_data(std::string_view bytes) = 0;
    virtual void on_part_end() = 0;
  };

  static constexpr std::size_t k_max_header_bytes = 8192;
  static constexpr std::size_t k_max_parts = 64;

  multipart_parser(std::string boundary, sink& s);

  // Feeds the next bytes of the body. Throws error(bad_request) when the
  // body is not well-formed multipart.
  void feed(std::string_view bytes);
  // Call at the end of the body. Throws error(bad_request) when the closing
  // boundary was not seen.
  void finish() const;
  bool done() const noexcept { return state_ == state::epilogue; }

 private:
  enum class state { preamble, after_boundary, headers, body, epilogue };
  void parse_headers(std::string_view block);

  std::string delimiter_;  // "\r\n--" + boundary
  sink& sink_;
  state state_ = state::preamble;
  std::string pending_;
  std::size_t parts_ = 0;
};

}  // namespace reel::http
