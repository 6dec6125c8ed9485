// The Redis RESP2 reply parser (src/redis/resp.hpp), which reads whatever a
// Redis server (or anything at its address) sends. The input is fed whole
// and in chunks of sizes taken from the input. Invariants: both feedings
// yield the same values and fail alike (split-independence); every value
// respects the parser's limits; each value written back as RESP parses to
// itself; a command encoded from the values' strings parses back as an
// array of bulk strings.
#include "redis/resp.hpp"
#include "fuzz.hpp"

#include <string>
#include <vector>

namespace redis = reel::redis;

namespace {

constexpr redis::parser_limits k_limits{
    .max_bulk = 1 << 16, .max_elements = 1 << 10, .max_depth = 4, .max_line = 1 << 10};

struct outcome {
  std::vector<redis::value> values;
  bool failed = false;
};

outcome parse(std::string_view bytes, const std::vector<std::size_t>& chunks) {
  outcome out;
  redis::parser p(k_limits);
  try {
    std::size_t i = 0;
    while (!bytes.empty()) {
      std::size_t n = chunks.empty() ? bytes.size() : std::min(chunks[i++ % chunks.size()], bytes.size());
      p.feed(bytes.substr(0, n));
      bytes.remove_prefix(n);
      while (auto v = p.next()) out.values.push_back(std::move(*v));
    }
  } catch (const redis::protocol_error&) {
    out.failed = true;
  }
  return out;
}

void write(const redis::value& v, std::string& out) {
  switch (v.type) {
    case redis::value::kind::simple:
      out += '+' + v.text + "\r\n";
      break;
    case redis::value::kind::error:
      out += '-' + v.text + "\r\n";
      break;
    case redis::value::kind::integer:
      out += ':' + std::to_string(v.integer) + "\r\n";
      break;
    case redis::value::kind::bulk:
      out += '$' + std::to_string(v.text.size()) + "\r\n" + v.text + "\r\n";
      break;
    case redis::value::kind::nil:
      out += "$-1\r\n";
      break;
    case redis::value::kind::array:
      out += '*' + std::to_string(v.elements.size()) + "\r\n";
      for (const auto& e : v.elements) write(e, out);
      break;
  }
}

void check_limits(const redis::value& v, int depth) {
  if (v.is_array()) {
    FUZZ_CHECK(depth < k_limits.max_depth);
    FUZZ_CHECK(v.elements.size() <= k_limits.max_elements);
    for (const auto& e : v.elements) check_limits(e, depth + 1);
  } else if (v.type == redis::value::kind::bulk) {
    FUZZ_CHECK(v.text.size() <= k_limits.max_bulk);
  } else if (v.type == redis::value::kind::simple || v.is_error()) {
    FUZZ_CHECK(v.text.find_first_of("\r") == std::string::npos);
  }
}

void strings_of(const redis::value& v, std::vector<std::string>& out) {
  if (v.is_string() || v.is_error()) out.push_back(v.text);
  for (const auto& e : v.elements) strings_of(e, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  std::vector<std::size_t> chunks(1 + in.upto(7));
  for (auto& c : chunks) c = 1 + in.upto(31);
  const std::string_view bytes = in.rest();

  const outcome whole = parse(bytes, {});
  const outcome split = parse(bytes, chunks);
  FUZZ_CHECK(whole.failed == split.failed);
  FUZZ_CHECK(whole.values == split.values);

  for (const auto& v : whole.values) {
    check_limits(v, 0);
    std::string again;
    write(v, again);
    const outcome reparsed = parse(again, {});
    FUZZ_CHECK(!reparsed.failed && reparsed.values.size() == 1 && reparsed.values[0] == v);

    std::vector<std::string> args;
    strings_of(v, args);
    if (args.empty() || args.size() > k_limits.max_elements) continue;
    const outcome command = parse(redis::encode(args), {});
    FUZZ_CHECK(!command.failed && command.values.size() == 1 && command.values[0].is_array());
    const auto& elements = command.values[0].elements;
    FUZZ_CHECK(elements.size() == args.size());
    for (std::size_t i = 0; i < args.size(); ++i) FUZZ_CHECK(elements[i] == redis::value::bulk(args[i]));
  }
  return 0;
}
