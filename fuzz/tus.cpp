// The tus request headers (src/api/tus.hpp) and what the upload creation
// does with the metadata (src/api/input.hpp: file name, title, description,
// media type). Invariants: numbers are exactly the digits sent; a checksum
// is 20 bytes whose base64 is what was sent; metadata keys are unique and
// clean, and the metadata written back parses to the same pairs; the
// cleaned file name, title and media type keep their promises.
#include "api/tus.hpp"
#include "api/input.hpp"
#include "core/digest.hpp"
#include "core/errors.hpp"
#include "fuzz.hpp"

#include <algorithm>
#include <string>

namespace api = reel::api;

namespace {

void check_number(std::string_view text) {
  try {
    auto n = api::parse_upload_number(text, "Upload-Length");
    FUZZ_CHECK(n.has_value() == !text.empty());
    if (n) {
      FUZZ_CHECK(text.size() <= 15);
      FUZZ_CHECK(std::to_string(*n).size() <= text.size());
      FUZZ_CHECK(*n == std::stoull(std::string(text)));
    }
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == reel::errc::bad_request);
    FUZZ_CHECK(!text.empty());
  }
}

void check_checksum(std::string_view text) {
  try {
    auto digest = api::parse_upload_checksum(text);
    FUZZ_CHECK(digest.has_value() == !text.empty());
    if (digest) {
      FUZZ_CHECK(digest->size() == 20);
      FUZZ_CHECK(reel::base64_encode(*digest) == text.substr(text.find(' ') + 1));
    }
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == reel::errc::bad_request);
  }
}

// What api/uploads.cpp's parse_creation makes of the metadata.
void check_fields(const std::vector<std::pair<std::string, std::string>>& metadata) {
  auto meta = [&](std::string_view key) -> std::optional<std::string> {
    for (const auto& [k, v] : metadata)
      if (k == key) return v;
    return std::nullopt;
  };
  const std::string filename = api::clean_filename(meta("filename").value_or(""));
  FUZZ_CHECK(!filename.empty() && filename.size() <= 255);
  FUZZ_CHECK(api::utf8_check(filename).has_value());
  FUZZ_CHECK(!api::has_unsafe_char(filename));
  FUZZ_CHECK(filename.find_first_of("/\\") == std::string::npos);
  FUZZ_CHECK(filename.front() != ' ' && filename.front() != '.');
  try {
    auto [title, description] = api::video_text_fields(meta("title"), meta("description"), filename);
    for (const auto* text : {&title, &description}) {
      auto chars = api::utf8_check(*text);
      FUZZ_CHECK(chars.has_value());
      FUZZ_CHECK(!api::has_unsafe_char(*text));
    }
    FUZZ_CHECK(!title.empty() && *api::utf8_check(title) <= 200);
    FUZZ_CHECK(*api::utf8_check(description) <= 5000);
  } catch (const reel::error& e) {
    FUZZ_CHECK(e.code() == reel::errc::bad_request);
  }
  const std::string type = api::clean_media_type(meta("filetype").value_or(""));
  FUZZ_CHECK(type.find('/') != std::string::npos && type.size() < 100);
  FUZZ_CHECK(api::clean_media_type(type) == type);
}

void check_metadata(std::string_view header) {
  auto metadata = api::parse_upload_metadata(header);
  if (!metadata) return;
  std::string again;
  for (std::size_t i = 0; i < metadata->size(); ++i) {
    const auto& [k, v] = (*metadata)[i];
    FUZZ_CHECK(!k.empty());
    FUZZ_CHECK(k.find_first_of(" ,") == std::string::npos);
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK((*metadata)[j].first != k);
    if (i) again += ',';
    again += k;
    if (!v.empty()) again += ' ' + reel::base64_encode(v);
  }
  auto reparsed = api::parse_upload_metadata(again);
  FUZZ_CHECK(reparsed.has_value());
  FUZZ_CHECK(*reparsed == *metadata);
  check_fields(*metadata);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::input in(data, size);
  check_number(in.text());
  check_checksum(in.text());
  check_metadata(in.rest());
  return 0;
}
