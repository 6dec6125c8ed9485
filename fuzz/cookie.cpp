// Cookie parsing (http::context::cookie, src/http/message.hpp) over one or
// several Cookie headers, and the query string (context::query). Invariants:
// a cookie found has a name present in a header and a value without ';';
// cookies written as name=value pairs are found with their first value
// (quotes stripped); a query value has no NUL.
#include "fuzz.hpp"
#include "http/message.hpp"

#include <string>
#include <vector>

using reel::http::context;

namespace {

bool plain_name(std::string_view s) { return !s.empty() && s.find_first_of("=; \t\"") == std::string_view::npos; }
bool plain_value(std::string_view s) {
  return s.find(';') == std::string_view::npos &&
         (s.empty() || (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t'));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  context ctx;
  // Raw headers as a client may send them.
  const std::size_t raw = in.upto(3);
  for (std::size_t i = 0; i < raw; ++i) ctx.req.insert(reel::http::field::cookie, in.text());
  // Then name=value pairs, joined as browsers join them.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string joined;
  const std::size_t n = in.upto(7);
  for (std::size_t i = 0; i < n; ++i) {
    std::string name(in.text()), value(in.text());
    if (!plain_name(name) || !plain_value(value)) continue;
    if (!joined.empty()) joined += "; ";
    joined += name + "=" + value;
    pairs.emplace_back(std::move(name), std::move(value));
  }
  if (!joined.empty()) ctx.req.insert(reel::http::field::cookie, joined);
  const std::string target = "/p?" + std::string(in.text());
  ctx.req.target(target);
  const std::string asked(in.rest());

  std::string all;
  for (auto it = ctx.req.find(reel::http::field::cookie); it != ctx.req.end(); ++it)
    if (it->name() == reel::http::field::cookie) all += std::string(it->value()) + "\n";

  for (const std::string& name : {asked, std::string("reel_session")}) {
    if (const std::string* v = ctx.cookie(name)) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(all.find(name) != std::string::npos);
      FUZZ_CHECK(v->find(';') == std::string::npos);
    }
  }
  // A pair whose name no raw header holds is found with its first value.
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto& [name, value] = pairs[i];
    bool earlier = false;
    for (std::size_t j = 0; j < i; ++j) earlier = earlier || pairs[j].first == name;
    if (earlier || (raw > 0 && all.substr(0, all.rfind(joined)).find(name) != std::string::npos)) continue;
    const std::string* v = ctx.cookie(name);
    FUZZ_CHECK(v != nullptr);
    std::string_view want = value;
    if (want.size() >= 2 && want.front() == '"' && want.back() == '"') want = want.substr(1, want.size() - 2);
    FUZZ_CHECK(*v == want);
  }

  for (const std::string& key : {asked, std::string("sid"), std::string("EIO")}) {
    if (auto v = ctx.query(key)) FUZZ_CHECK(v->find('\0') == std::string::npos);
  }
  return 0;
}
