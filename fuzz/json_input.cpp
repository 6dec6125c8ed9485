// JSON request bodies and the input validation of src/api/input.hpp: the
// body parsed as the server does (context::json_body), then every field
// rule applied to it; and the free-text cleaners applied to raw bytes.
// Invariants: every rejection is bad_request (or 415 for the media type);
// what a rule accepts keeps its promise (valid UTF-8, length in range, no
// unsafe characters, trimmed; a lower-case email with one '@'; a role that
// names itself); utf8_check agrees with an independent decoder.
#include "api/input.hpp"
#include "core/errors.hpp"
#include "fuzz.hpp"
#include "http/message.hpp"
#include "model/accounts.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>

namespace api = reel::api;
using reel::errc;

namespace {

// An independent UTF-8 decoder (RFC 3629's table): code points or nullopt.
std::optional<std::size_t> reference_utf8(std::string_view s) {
  std::size_t chars = 0, i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto in = [&](std::size_t k, int lo, int hi) { return k < s.size() && at(k) >= lo && at(k) <= hi; };
  while (i < s.size()) {
    unsigned char c = at(i);
    if (c <= 0x7F) {
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF && in(i + 1, 0x80, 0xBF)) {
      i += 2;
    } else if (c == 0xE0 && in(i + 1, 0xA0, 0xBF) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (c == 0xED && in(i + 1, 0x80, 0x9F) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (c == 0xF0 && in(i + 1, 0x90, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else if (c >= 0xF1 && c <= 0xF3 && in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else if (c == 0xF4 && in(i + 1, 0x80, 0x8F) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return std::nullopt;
    }
    ++chars;
  }
  return chars;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void check_text(const std::string& v, api::text_rule rule) {
  auto chars = api::utf8_check(v);
  FUZZ_CHECK(chars.has_value());
  FUZZ_CHECK(*chars >= rule.min_chars && *chars <= rule.max_chars);
  FUZZ_CHECK(!api::has_unsafe_char(v));
  if (rule.trim && !v.empty()) FUZZ_CHECK(!is_space(v.front()) && !is_space(v.back()));
}

// Runs one rule; a rejection must be bad_request.
template <class F>
void rule(F f) {
  try {
    f();
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == errc::bad_request);
  }
}

void check_object(const boost::json::object& o) {
  rule([&] { check_text(api::require_text(o, "name"), {}); });
  rule([&] {
    api::text_rule r{.min_chars = 0, .max_chars = 5000, .trim = false};
    if (auto v = api::optional_text(o, "description", r)) check_text(*v, r);
  });
  rule([&] {
    std::string email = api::require_email(o);
    FUZZ_CHECK(email.size() >= 3 && email.size() <= 254);
    FUZZ_CHECK(email.find('@') != std::string::npos && email.find('@') == email.rfind('@'));
    for (char c : email) FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && static_cast<unsigned char>(c) > 0x20);
  });
  rule([&] {
    auto role = api::require_role(o);
    FUZZ_CHECK(reel::model::parse_role(reel::model::role_name(role)) == role);
  });
  rule([&] {
    std::string password = api::require_password(o);
    FUZZ_CHECK(password == std::string_view(o.at("password").as_string()));
  });
  auto text_of = [&](const char* key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().as_string());
  };
  rule([&] {
    auto [title, description] = api::video_text_fields(text_of("title"), text_of("description"),
                                                       api::clean_filename(text_of("filename").value_or("")));
    FUZZ_CHECK(api::utf8_check(title) && !title.empty() && *api::utf8_check(title) <= 200);
    FUZZ_CHECK(api::utf8_check(description) && *api::utf8_check(description) <= 5000);
  });
}

void check_cleaners(std::string_view raw) {
  FUZZ_CHECK(api::utf8_check(raw) == reference_utf8(raw));
  const std::string name = api::clean_filename(raw);
  FUZZ_CHECK(!name.empty() && name.size() <= 255 && api::utf8_check(name) && !api::has_unsafe_char(name));
  FUZZ_CHECK(name.find_first_of("/\\") == std::string::npos);
  FUZZ_CHECK(api::clean_filename(name) == name);
  const std::string agent = api::clean_user_agent(raw);
  FUZZ_CHECK(agent.size() <= 256 && api::utf8_check(agent) && !api::has_unsafe_char(agent));
  FUZZ_CHECK(agent.empty() || (agent.front() != ' ' && agent.back() != ' '));
  const std::string type = api::clean_media_type(raw);
  FUZZ_CHECK(api::clean_media_type(type) == type);
  const std::string title = api::default_title(name);
  FUZZ_CHECK(!title.empty() && api::utf8_check(title) && *api::utf8_check(title) <= 200);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  const bool json_type = in.byte() != 0xff;  // almost always application/json
  const std::string_view body = in.rest();
  check_cleaners(body);

  reel::http::context ctx;
  if (json_type) ctx.req.set(reel::http::field::content_type, "application/json; charset=utf-8");
  ctx.req.body() = std::string(body);
  try {
    const auto& v = ctx.json_body();
    FUZZ_CHECK(json_type);
    FUZZ_CHECK(&ctx.json_body() == &v);  // parsed once
    check_object(api::require_object(v));
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == (json_type ? errc::bad_request : errc::unsupported_media_type));
  }
  return 0;
}
