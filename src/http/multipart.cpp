#include "http/multipart.hpp"

#include "core/errors.hpp"
#include "core/strings.hpp"
#include "http/router.hpp"

#include <algorithm>
#include <cctype>

namespace reel::http {

namespace {

[[noreturn]] void malformed(const std::string& why) {
  throw error(errc::bad_request, "The multipart body is malformed: " + why + ".");
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits `type; a=1; b="x;y"` into its parameters, honouring quotes.
// Calls fn(name, value) for each; returns false on broken quoting.
template <class F>
bool for_each_param(std::string_view s, F fn) {
  auto semi = s.find(';');
  if (semi == std::string_view::npos) return true;
  s.remove_prefix(semi + 1);
  while (!s.empty()) {
    s = trim_ows(s);
    auto eq = s.find('=');
    if (eq == std::string_view::npos) return true;
    std::string_view name = trim_ows(s.substr(0, eq));
    s.remove_prefix(eq + 1);
    s = trim_ows(s);
    std::string value;
    if (!s.empty() && s.front() == '"') {
      std::size_t i = 1;
      bool closed = false;
      for (; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[++i];
        } else if (s[i] == '"') {
          closed = true;
          break;
        } else {
          value += s[i];
        }
      }
      if (!closed) return false;
      s.remove_prefix(i + 1);
      auto next = s.find(';');
      s = next == std::string_view::npos ? std::string_view{} : s.substr(next + 1);
    } else {
      auto next = s.find(';');
      value = std::string(trim_ows(s.substr(0, next)));
      s = next == std::string_view::npos ? std::string_view{} : s.substr(next + 1);
    }
    fn(name, std::move(value));
  }
  return true;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  std::string_view type = trim_ows(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) return std::nullopt;
  std::optional<std::string> boundary;
  bool ok = for_each_param(content_type, [&](std::string_view name, std::string value) {
    if (iequals(name, "boundary")) boundary = std::move(value);
  });
  if (!ok || !boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  for (char c : *boundary)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return std::nullopt;
  return boundary;
}

multipart_parser::multipart_parser(std::string boundary, sink& s) : delimiter_("\r\n--" + boundary), sink_(s) {
  // The first boundary may start the body without a CRLF before it.
  pending_ = "\r\n";
}

void multipart_parser::parse_headers(std::string_view block) {
  part_info info;
  info.content_type = "text/plain";
  bool has_disposition = false;
  while (!block.empty()) {
    auto eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) malformed("a part header has no colon");
    std::string_view name = trim_ows(line.substr(0, colon)), value = trim_ows(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      if (!iequals(trim_ows(value.substr(0, value.find(';'))), "form-data")) malformed("a part is not form-data");
      has_disposition = true;
      std::optional<std::string> ext_filename;
      bool ok = for_each_param(value, [&](std::string_view pname, std::string pvalue) {
        if (iequals(pname, "name"))
          info.name = std::move(pvalue);
        else if (iequals(pname, "filename"))
          info.filename = std::move(pvalue);
        else if (iequals(pname, "filename*")) {
          // RFC 5987: UTF-8''percent-encoded
          auto quote = pvalue.find("''");
          std::string decoded;
          if (quote != std::string::npos && percent_decode(std::string_view(pvalue).substr(quote + 2), decoded))
            ext_filename = std::move(decoded);
        }
      });
      if (!ok) malformed("a Content-Disposition has broken quoting");
      if (ext_filename) info.filename = std::move(ext_filename);
    } else if (iequals(name, "Content-Type")) {
      info.content_type = std::string(value);
    }
  }
  if (!has_disposition) malformed("a part has no Content-Disposition");
  sink_.on_part_begin(info);
}

void multipart_parser::feed(std::string_view bytes) {
  pending_.append(bytes.data(), bytes.size());
  std::size_t pos = 0;  // consumed prefix of pending_
  for (;;) {
    std::string_view rest = std::string_view(pending_).substr(pos);
    if (state_ == state::preamble) {
      auto at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // Keep only what could be the start of a delimiter.
        if (rest.size() >= delimiter_.size()) pos += rest.size() - (delimiter_.size() - 1);
        if (pos > (std::size_t(1) << 20)) malformed("no boundary was found");
        break;
      }
      pos += at + delimiter_.size();
      state_ = state::after_boundary;
    } else if (state_ == state::after_boundary) {
      std::size_t skip = 0;
      while (skip < rest.size() && (rest[skip] == ' ' || rest[skip] == '\t')) ++skip;
      if (rest.size() < skip + 2) break;
      if (rest.substr(skip, 2) == "--") {
        pos += skip + 2;
        state_ = state::epilogue;
      } else if (rest.substr(skip, 2) == "\r\n") {
        pos += skip + 2;
        if (++parts_ > k_max_parts) malformed("it has too many parts");
        state_ = state::headers;
      } else {
        malformed("a boundary is followed by garbage");
      }
    } else if (state_ == state::headers) {
      if (rest.starts_with("\r\n")) {  // no headers at all
        pos += 2;
        parse_headers({});
        state_ = state::body;
        continue;
      }
      auto end = rest.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (rest.size() > k_max_header_bytes) malformed("a part's headers are too large");
        break;
      }
      if (end > k_max_header_bytes) malformed("a part's headers are too large");
      parse_headers(rest.substr(0, end + 2));
      pos += end + 4;
      state_ = state::body;
    } else if (state_ == state::body) {
      auto at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        std::size_t safe = rest.size() >= delimiter_.size() ? rest.size() - (delimiter_.size() - 1) : 0;
        if (safe > 0) sink_.on_part_data(rest.substr(0, safe));
        pos += safe;
        break;
      }
      if (at > 0) sink_.on_part_data(rest.substr(0, at));
      sink_.on_part_end();
      pos += at + delimiter_.size();
      state_ = state::after_boundary;
    } else {  // epilogue: ignored
      pos = pending_.size();
      break;
    }
  }
  pending_.erase(0, pos);
}

void multipart_parser::finish() const {
  if (state_ != state::epilogue) malformed("it ends before the closing boundary");
}

}  // namespace reel::http
