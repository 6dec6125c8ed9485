#include "http/message.hpp"

#include "core/strings.hpp"
#include "http/router.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <unistd.h>

namespace reel::http {

open_file::~open_file() {
  if (fd_ >= 0) ::close(fd_);
}

const std::string& route_params::at(std::string_view name) const {
  if (auto* v = find(name)) return *v;
  throw error(errc::not_found, "No such resource.");
}

const std::string* route_params::find(std::string_view name) const noexcept {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

std::string_view context::path() const noexcept {
  std::string_view t = req.target();
  return t.substr(0, t.find('?'));
}

std::optional<std::string> context::query(std::string_view key) const {
  std::string_view t = req.target();
  auto q = t.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = t.substr(q + 1);
  std::string decoded;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (!percent_decode(pair.substr(0, eq), decoded, true) || decoded != key) continue;
    std::string value;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::string_view context::header(field f) const noexcept {
  auto it = req.find(f);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view context::header(std::string_view name) const noexcept {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

const std::string* context::cookie(std::string_view name) const {
  if (!cookies_) {
    cookies_.emplace();
    for (auto it = req.find(field::cookie); it != req.end() && it->name() == field::cookie; ++it) {
      std::string_view s = it->value();
      while (!s.empty()) {
        auto semi = s.find(';');
        std::string_view pair = s.substr(0, semi);
        s = semi == std::string_view::npos ? std::string_view{} : s.substr(semi + 1);
        pair = trim_ows(pair);
        auto eq = pair.find('=');
        if (eq == 0 || eq == std::string_view::npos) continue;
        std::string_view k = pair.substr(0, eq), v = pair.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        // First occurrence wins, as in the cookie package Express uses.
        bool seen = false;
        for (const auto& c : *cookies_) seen = seen || c.first == k;
        if (!seen) cookies_->emplace_back(std::string(k), std::string(v));
      }
    }
  }
  for (const auto& [k, v] : *cookies_)
    if (k == name) return &v;
  return nullptr;
}

const boost::json::value& context::json_body() {
  if (json_) return *json_;
  std::string_view type = header(field::content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  bool is_json = type.size() == 16 && std::equal(type.begin(), type.end(), "application/json", [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == b;
                 });
  if (!is_json)
    throw error(errc::unsupported_media_type, "The request body must be JSON (Content-Type: application/json).");
  if (req.body().empty()) throw error(errc::bad_request, "The request body is empty; a JSON object was expected.");
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::stream_parser parser({}, opts);
  boost::system::error_code ec;
  std::size_t used = parser.write_some(req.body().data(), req.body().size(), ec);
  if (!ec && used < req.body().size()) ec = boost::json::error::extra_data;
  if (!ec) parser.finish(ec);
  if (ec) {
    std::string why = ec == boost::json::error::too_deep     ? "it is nested more than 32 levels deep"
                      : ec == boost::json::error::extra_data ? "unexpected data after the JSON value"
                      : ec == boost::json::error::incomplete ? "it ends before the JSON value is complete"
                                                             : ec.message();
    throw error(errc::bad_request,
                "The request body is not valid JSON (" + why + ", near byte " + std::to_string(used) + ").");
  }
  boost::json::value v = parser.release();
  json_.emplace(std::move(v));
  return *json_;
}

response json_response(status s, const boost::json::value& body) {
  response res{s, 11};
  res.set(field::content_type, "application/json; charset=utf-8");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

response json_text_response(status s, std::string body) {
  response res{s, 11};
  res.set(field::content_type, "application/json; charset=utf-8");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response text_response(status s, std::string body, std::string_view content_type) {
  response res{s, 11};
  res.set(field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response error_response(errc code, std::string_view message) {
  boost::json::object inner;
  inner["code"] = code_name(code);
  inner["message"] = message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  response res = json_response(static_cast<status>(http_status_of(code)), outer);
  if (code == errc::checksum_mismatch) res.reason("Checksum Mismatch");  // tus's own status: Beast has no name for it
  return res;
}

response empty_response(status s) {
  response res{s, 11};
  res.prepare_payload();
  return res;
}

}  // namespace reel::http
