#include "http/request_head.hpp"

#include "core/strings.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace reel::http {

namespace beast = boost::beast;

// A request whose body length two parties could read differently is
// refused (and its connection closed), never guessed: a Transfer-Encoding
// other than exactly "chunked" (gzip, "chunked, chunked", several headers)
// would otherwise leave the body to be parsed as the next request (request
// smuggling behind a proxy that reads it another way), and so would a
// Transfer-Encoding beside a Content-Length, or on HTTP/1.0 (RFC 9112 6.1).
std::optional<std::string> framing_problem(const beast_http::request_header<>& h) {
  auto range = h.equal_range(field::transfer_encoding);
  if (range.first == range.second) return std::nullopt;
  if (std::next(range.first) != range.second) return "The request has more than one Transfer-Encoding header.";
  std::string te(trim_ows(range.first->value()));
  if (!beast::iequals(te, "chunked")) {
    // Echoed in a JSON error body: printable ASCII only (a byte like 0xB8
    // would make the body invalid UTF-8, so invalid JSON).
    std::string shown = te.substr(0, 64);
    for (char& c : shown)
      if (c < 0x20 || c > 0x7e) c = '?';
    return "Transfer-Encoding \"" + shown + "\" is not supported; send chunked or a Content-Length.";
  }
  if (h.count(field::content_length)) return "A request must not have both Transfer-Encoding and Content-Length.";
  if (h.version() < 11) return "Transfer-Encoding needs HTTP/1.1.";
  return std::nullopt;
}

std::string body_too_large(std::uint64_t limit) {
  return "The request body is larger than this endpoint accepts (" + std::to_string(limit) + " bytes).";
}

// A head that could not be read, for another reason than the client leaving:
// 431 past the size limit, else 400. The request line was never parsed, so
// logs and metrics show "-" for its method.
body_plan refuse_unreadable_head(const boost::system::error_code& ec, std::uint32_t header_limit, context& ctx) {
  if (ec == beast_http::error::header_limit)
    ctx.rejection.emplace(errc::request_header_fields_too_large,
                          "The request head is larger than " + std::to_string(header_limit) + " bytes.");
  else
    ctx.rejection.emplace(errc::bad_request, "The request is not valid HTTP/1.1 (" + ec.message() + ").");
  ctx.req.method_string("-");
  return {body_mode::refused, 0};
}

// Fills `ctx` from a head read without error: the request line and fields,
// the matched route (or the Allow list for 405 and OPTIONS), and a rejection
// for ambiguous framing (400) or a declared body over the route's limit
// (413). Returns how the body is to be read, within which limit.
body_plan route_request(const router& routes, std::uint64_t default_limit, const head_parser& header, context& ctx) {
  ctx.req.base() = header.get().base();
  body_plan plan{body_mode::whole, default_limit};
  auto m = routes.find(ctx.req.method(), ctx.path(), ctx.params);
  if (m.outcome == router::match::kind::found) {
    ctx.matched = m.matched;
    ctx.route = m.matched->pattern;
    if (m.matched->options.body_limit) plan.limit = m.matched->options.body_limit;
    if (m.matched->options.stream_body) plan.mode = body_mode::streamed;
  } else if (m.outcome == router::match::kind::method_not_allowed) {
    ctx.allow = m.allow;
  } else if (ctx.req.method() == verb::options) {
    ctx.allow = routes.allowed_methods(ctx.path());
  }
  if (auto problem = framing_problem(header.get())) ctx.rejection.emplace(errc::bad_request, *problem);
  if (header.content_length() && *header.content_length() > plan.limit)
    ctx.rejection.emplace(errc::payload_too_large, body_too_large(plan.limit));
  if (ctx.rejection) plan.mode = body_mode::refused;
  return plan;
}

}  // namespace reel::http
