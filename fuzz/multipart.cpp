// The multipart/form-data parser (src/http/multipart.hpp): the boundary from
// a Content-Type, then the body fed whole and fed in chunks of sizes taken
// from the input. Invariants: both feedings report the same parts, data and
// outcome (the parser is split-independent); events come in order (data
// only inside a part, at most k_max_parts parts); no part's data holds the
// delimiter; and a parsed body written back out parses to the same parts.
#include "http/multipart.hpp"
#include "core/errors.hpp"
#include "fuzz.hpp"

#include <optional>
#include <string>
#include <vector>

using reel::http::multipart_parser;

namespace {

struct part {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
  bool ended = false;
  bool operator==(const part&) const = default;
};

class recorder : public multipart_parser::sink {
 public:
  std::vector<part> parts;
  void on_part_begin(const multipart_parser::part_info& p) override {
    FUZZ_CHECK(parts.empty() || parts.back().ended);
    FUZZ_CHECK(parts.size() < multipart_parser::k_max_parts);
    parts.push_back({p.name, p.filename, p.content_type, {}, false});
  }
  void on_part_data(std::string_view bytes) override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    FUZZ_CHECK(!bytes.empty());
    parts.back().data.append(bytes);
  }
  void on_part_end() override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    parts.back().ended = true;
  }
};

struct outcome {
  std::vector<part> parts;
  bool failed = false;  // feed() or finish() threw bad_request
  bool done = false;
};

// Feeds `body` in chunks of the given sizes (cycled; all of it at once when empty).
outcome parse(const std::string& boundary, std::string_view body, const std::vector<std::size_t>& chunks) {
  outcome out;
  recorder rec;
  multipart_parser p(boundary, rec);
  try {
    std::size_t i = 0;
    while (!body.empty()) {
      std::size_t n = chunks.empty() ? body.size() : chunks[i++ % chunks.size()];
      p.feed(body.substr(0, n));
      body.remove_prefix(std::min(n, body.size()));
    }
    p.finish();
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == reel::errc::bad_request);
    out.failed = true;
  }
  out.done = p.done();
  out.parts = std::move(rec.parts);
  return out;
}

bool writable(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The parts as a body, or nullopt when a header value could not be written as parsed.
std::optional<std::string> body_of(const std::string& boundary, const std::vector<part>& parts) {
  std::string out;
  for (const auto& p : parts) {
    std::string_view type = p.content_type;
    // (A head the parser took must also fit its limit once written back.)
    std::size_t head = p.name.size() * 2 + (p.filename ? p.filename->size() * 2 : 0) + type.size();
    if (head > multipart_parser::k_max_header_bytes / 2) return std::nullopt;
    if (!writable(p.name) || (p.filename && !writable(*p.filename)) || !writable(type) || type.empty() ||
        type.front() == ' ' || type.front() == '\t' || type.back() == ' ' || type.back() == '\t')
      return std::nullopt;
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quoted(p.name);
    if (p.filename) out += "; filename=" + quoted(*p.filename);
    out += "\r\nContent-Type: " + p.content_type + "\r\n\r\n" + p.data + "\r\n";
  }
  return out + "--" + boundary + "--\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  std::string_view content_type = in.text();
  std::vector<std::size_t> chunks(1 + in.upto(7));
  for (auto& c : chunks) c = 1 + in.upto(63);
  std::string_view body = in.rest();

  auto from_header = reel::http::multipart_boundary(content_type);
  if (from_header) {
    FUZZ_CHECK(!from_header->empty() && from_header->size() <= 70);
    for (char c : *from_header) FUZZ_CHECK(c >= 0x20 && c <= 0x7e);
  }
  const std::string boundary = from_header.value_or("XyZ");

  const outcome whole = parse(boundary, body, {});
  const outcome split = parse(boundary, body, chunks);
  FUZZ_CHECK(whole.failed == split.failed);
  FUZZ_CHECK(whole.done == split.done);
  FUZZ_CHECK(whole.parts == split.parts);

  const std::string delimiter = "\r\n--" + boundary;
  for (const auto& p : whole.parts) FUZZ_CHECK(p.data.find(delimiter) == std::string::npos);
  if (whole.failed) return 0;
  FUZZ_CHECK(whole.done);
  for (const auto& p : whole.parts) FUZZ_CHECK(p.ended);

  if (auto again_body = body_of(boundary, whole.parts)) {
    const outcome again = parse(boundary, *again_body, {});
    FUZZ_CHECK(!again.failed);
    FUZZ_CHECK(again.parts == whole.parts);
  }
  return 0;
}
