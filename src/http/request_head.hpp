// What the server decides from a request's head alone, before any body is
// read and before the middleware chain runs: the route, the body limit and
// mode, and the rejections of a head that is unreadable, ambiguous in its
// framing or announcing too large a body. Pure functions of the parsed head
// (used by http::server and by the router fuzz target); any thread.
#pragma once

#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace reel::http {

using head_parser = beast_http::request_parser<beast_http::empty_body>;

// How the body of a request is read once its head is in.
enum class body_mode {
  refused,   // the request is rejected (ctx.rejection): its body is not read
  whole,     // read whole, within the limit, before the handler runs
  streamed,  // left on the socket for the handler to read (routes with stream_body)
};

struct body_plan {
  body_mode mode = body_mode::whole;
  std::uint64_t limit = 0;
};

// Why the head's framing is refused (400), or nullopt when it is fine.
std::optional<std::string> framing_problem(const beast_http::request_header<>& h);

// The 413 message for a body over `limit`.
std::string body_too_large(std::uint64_t limit);

// A head that could not be read (`ec`, not a disconnect) → ctx.rejection:
// 431 past `header_limit`, else 400; the body is refused.
body_plan refuse_unreadable_head(const boost::system::error_code& ec, std::uint32_t header_limit, context& ctx);

// Fills `ctx` from a head read without error: the request line and fields,
// the matched route (or the Allow list for 405 and OPTIONS), and a rejection
// for ambiguous framing (400) or a declared body over the route's limit
// (413). Returns how the body is to be read, within which limit.
body_plan route_request(const router& routes, std::uint64_t default_limit, const head_parser& header, context& ctx);

}  // namespace reel::http
