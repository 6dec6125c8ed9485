// The HTTP request path without a socket: raw bytes → Beast's request
// parser with the server's limits → what the server decides from the head
// (http::route_request / refuse_unreadable_head, src/http/request_head.hpp)
// → the body read whole within the route's limit, or left to a streaming
// handler → the app's middleware chain (request id, security headers, CORS,
// tus headers, error handler, dispatch) → handlers that parse what the real
// ones parse (route parameters, query, cookie, JSON body, tus headers,
// Range, multipart). The routes are the app's table (src/app/serve.cpp's
// add_routes, which needs the database and workers to build): the methods,
// patterns and body options are copied below.
// Invariants: a route found matches method and path and its parameters
// are non-empty; a rejection refuses the body; every answer has a request
// id and the security headers; every error answer is API.md's JSON shape
// with the code of its status; 405 carries Allow; the request metrics keep
// a bounded set of method labels.
#include "http/router.hpp"
#include "api/input.hpp"
#include "api/tus.hpp"
#include "api/uploads.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "fuzz.hpp"
#include "http/metrics.hpp"
#include "http/middleware.hpp"
#include "http/multipart.hpp"
#include "http/range.hpp"
#include "http/request_head.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include <exception>
#include <memory>
#include <optional>

namespace asio = boost::asio;
namespace http = reel::http;
namespace api = reel::api;
using http::verb;

namespace {

constexpr std::uint32_t k_header_limit = 16 * 1024;  // http::server_options defaults
constexpr std::uint64_t k_default_limit = 1 << 20;
constexpr std::uint64_t k_upload_limit = 64ULL << 20;  // REEL_MAX_UPLOAD_BYTES stands in

struct route_row {
  verb method;
  const char* pattern;
  bool streamed;
};
// src/app/serve.cpp add_routes(), in its order.
constexpr route_row k_routes[] = {
    {verb::post, "/api/auth/register", false},
    {verb::post, "/api/auth/login", false},
    {verb::post, "/api/auth/logout", false},
    {verb::post, "/api/auth/logout-all", false},
    {verb::post, "/api/auth/password", false},
    {verb::get, "/api/auth/sessions", false},
    {verb::delete_, "/api/auth/sessions/:id", false},
    {verb::get, "/api/auth/me", false},
    {verb::post, "/api/auth/forgot", false},
    {verb::post, "/api/auth/reset", false},
    {verb::get, "/api/orgs", false},
    {verb::post, "/api/orgs", false},
    {verb::patch, "/api/orgs/:orgId", false},
    {verb::get, "/api/orgs/:orgId/members", false},
    {verb::patch, "/api/orgs/:orgId/members/:userId", false},
    {verb::delete_, "/api/orgs/:orgId/members/:userId", false},
    {verb::post, "/api/orgs/:orgId/invitations", false},
    {verb::get, "/api/orgs/:orgId/invitations", false},
    {verb::delete_, "/api/orgs/:orgId/invitations/:id", false},
    {verb::post, "/api/orgs/:orgId/members", false},
    {verb::get, "/api/auth/invitations", false},
    {verb::post, "/api/auth/invitations/:id/accept", false},
    {verb::post, "/api/auth/invitations/:id/decline", false},
    {verb::post, "/api/videos", true},
    {verb::get, "/api/videos", false},
    {verb::get, "/api/videos/:id", false},
    {verb::patch, "/api/videos/:id", false},
    {verb::delete_, "/api/videos/:id", false},
    {verb::post, "/api/videos/:id/reprocess", false},
    {verb::post, "/api/videos/:id/playback-url", false},
    {verb::get, "/api/stream/:id/video", false},
    {verb::get, "/api/stream/:id/hls/*", false},
    {verb::get, "/api/stream/:id/thumbnail.jpg", false},
    {verb::options, "/api/uploads", false},
    {verb::options, "/api/uploads/:id", false},
    {verb::post, "/api/uploads", true},
    {verb::head, "/api/uploads/:id", false},
    {verb::patch, "/api/uploads/:id", true},
    {verb::delete_, "/api/uploads/:id", false},
    {verb::post, "/api/uploads/:id", true},
    {verb::get, "/socket.io/", false},
    {verb::post, "/socket.io/", false},
    {verb::get, "/embed/:id", false},
    {verb::get, "/v/:id", false},
    {verb::get, "/oembed", false},
    {verb::get, "/api/public/orgs/:slug", false},
    {verb::get, "/api/public/orgs/:slug/videos", false},
    {verb::get, "/o/:slug", false},
    {verb::get, "/healthz", false},
    {verb::get, "/readyz", false},
    {verb::get, "/", false},
    {verb::get, "/static/*", false},
};

// A streamed body from the bytes after the head, as they are.
class string_body_reader : public http::body_reader {
 public:
  explicit string_body_reader(std::string_view bytes) : rest_(bytes) {}
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer out) override {
    std::size_t n = std::min(out.size(), rest_.size());
    std::memcpy(out.data(), rest_.data(), n);
    rest_.remove_prefix(n);
    co_return n;
  }
  bool done() const noexcept override { return rest_.empty(); }
  std::optional<std::uint64_t> content_length() const noexcept override { return std::nullopt; }
  void abort() noexcept override {}

 private:
  std::string_view rest_;
};

class discard : public http::multipart_parser::sink {
  void on_part_begin(const http::multipart_parser::part_info&) override {}
  void on_part_data(std::string_view) override {}
  void on_part_end() override {}
};

// What the real handlers parse before they call the domain.
asio::awaitable<http::response> handle(http::context& ctx) {
  const http::route& r = *ctx.matched;
  FUZZ_CHECK(ctx.route == r.pattern);
  for (std::string_view name : {"id", "orgId", "userId", "*"}) {
    if (const std::string* v = ctx.params.find(name)) FUZZ_CHECK(name == "*" || !v->empty());
  }
  auto page = api::query_int(ctx, "limit", 1, 100);
  if (page) FUZZ_CHECK(*page >= 1 && *page <= 100);
  (void)ctx.cookie("reel_session");
  if (r.pattern.starts_with("/api/uploads")) {
    (void)api::parse_upload_number(ctx.header("Upload-Length"), "Upload-Length");
    (void)api::parse_upload_number(ctx.header("Upload-Offset"), "Upload-Offset");
    (void)api::parse_upload_checksum(ctx.header("Upload-Checksum"));
    if (!api::parse_upload_metadata(ctx.header("Upload-Metadata")))
      throw reel::error(reel::errc::bad_request, "Upload-Metadata is malformed.");
  }
  if (r.pattern.starts_with("/api/stream/")) {
    auto range = http::parse_range(ctx.header(http::field::range), 1000);
    for (const auto& b : range.ranges) FUZZ_CHECK(b.last < 1000);
  }
  if (ctx.body) {  // a streamed upload: multipart when it says so
    auto boundary = http::multipart_boundary(ctx.header(http::field::content_type));
    discard sink;
    std::optional<http::multipart_parser> parser;
    if (boundary) parser.emplace(*boundary, sink);
    char buf[512];
    while (std::size_t n = co_await ctx.body->read_some(asio::buffer(buf)))
      if (parser) parser->feed({buf, n});
    if (parser) parser->finish();
  } else if (ctx.req.method() == verb::post || ctx.req.method() == verb::patch) {
    (void)api::require_object(ctx.json_body());
  }
  co_return http::json_response(http::status::ok, {{"ok", true}});
}

const http::router& app_routes() {
  static const http::router routes = [] {
    http::router r;
    for (const auto& row : k_routes) {
      http::route_options options;
      if (row.streamed) options = {.body_limit = k_upload_limit, .stream_body = true};
      r.add(row.method, row.pattern, handle, options);
    }
    return r;
  }();
  return routes;
}

// One for the whole run, as a server has: what clients send must not grow it without bound.
http::metrics& app_metrics() {
  static http::metrics m;
  return m;
}

// src/app/serve.cpp middleware_chain().
const http::handler& app_chain() {
  static const http::handler chain = [] {
    reel::log::set_level(reel::log::level::warn);  // an info line per request would be most of the time
    return http::compose({http::request_id(), http::access_log(app_metrics()), http::security_headers(false),
                          http::cors({"https://app.example"}), api::tus_headers(), http::error_handler()},
                         http::dispatch_route());
  }();
  return chain;
}

// The request counters' method labels: the methods HTTP defines (and "-"
// for a head that could not be read), however many others clients invent.
void check_metrics() {
  const std::string text = app_metrics().render();
  std::size_t at = 0;
  while ((at = text.find("method=\"", at)) != std::string::npos) {
    at += 8;
    std::string method = text.substr(at, text.find('"', at) - at);
    FUZZ_CHECK(method == "-" || method == "OTHER" || boost::beast::http::string_to_verb(method) != verb::unknown);
  }
}

// The context the server would hand the chain, or nullopt when it would
// still be waiting for bytes.
std::optional<http::body_plan> read_request(std::string_view bytes, http::context& ctx, std::string_view& rest) {
  http::head_parser header;
  header.header_limit(k_header_limit);
  header.body_limit(boost::none);
  boost::system::error_code ec;
  while (!header.is_header_done()) {
    std::size_t used = header.put(asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (ec == boost::beast::http::error::need_more || (!ec && used == 0)) return std::nullopt;  // it waits
    if (ec) break;
  }
  rest = bytes;
  if (ec) {
    auto plan = http::refuse_unreadable_head(ec, k_header_limit, ctx);
    FUZZ_CHECK(plan.mode == http::body_mode::refused && ctx.rejection);
    return plan;
  }
  auto plan = http::route_request(app_routes(), k_default_limit, header, ctx);
  FUZZ_CHECK((plan.mode == http::body_mode::refused) == ctx.rejection.has_value());
  if (ctx.matched) {
    FUZZ_CHECK(ctx.matched->method == ctx.req.method() ||
               (ctx.req.method() == verb::head && ctx.matched->method == verb::get));
  }
  if (plan.mode != http::body_mode::whole) return plan;
  boost::beast::http::request_parser<boost::beast::http::string_body> parser(std::move(header));
  parser.body_limit(plan.limit);
  while (!parser.is_done()) {
    std::size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(used);
    if (ec == boost::beast::http::error::need_more || (!ec && used == 0)) return std::nullopt;  // it waits
    if (ec == boost::beast::http::error::body_limit) {
      ctx.rejection.emplace(reel::errc::payload_too_large, http::body_too_large(plan.limit));
      return plan;
    }
    if (ec) {
      ctx.rejection.emplace(reel::errc::bad_request, "The request body is malformed.");
      return plan;
    }
  }
  ctx.req = parser.release();
  return plan;
}

void check_response(const http::context& ctx, const http::response& res) {
  FUZZ_CHECK(res.find("X-Request-Id") != res.end() && reel::ids::is_safe_token(res["X-Request-Id"]));
  FUZZ_CHECK(res.find("X-Content-Type-Options") != res.end());
  const unsigned status = res.result_int();
  if (ctx.rejection) FUZZ_CHECK(status == reel::http_status_of(ctx.rejection->first));
  if (status == 405) FUZZ_CHECK(!res[http::field::allow].empty());
  if (status < 400) return;
  boost::system::error_code ec;
  auto body = boost::json::parse(res.body(), ec);
  FUZZ_CHECK(!ec && body.is_object());
  const auto* error = body.as_object().if_contains("error");
  FUZZ_CHECK(error && error->is_object());
  const auto* code = error->as_object().if_contains("code");
  const auto* message = error->as_object().if_contains("message");
  FUZZ_CHECK(code && code->is_string() && message && message->is_string());
  FUZZ_CHECK(status != 500);  // every failure a client can cause has its own answer
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  http::context ctx;
  std::string_view rest;
  auto plan = read_request(bytes, ctx, rest);
  if (!plan) return 0;
  std::optional<string_body_reader> streamed;
  if (plan->mode == http::body_mode::streamed) ctx.body = &streamed.emplace(rest);

  asio::io_context io;
  std::optional<http::response> res;
  asio::co_spawn(io, app_chain()(ctx), [&](std::exception_ptr e, http::response r) {
    FUZZ_CHECK(!e);  // error_handler answers everything
    res = std::move(r);
  });
  io.run();
  FUZZ_CHECK(res.has_value());
  check_response(ctx, *res);
  // Rendering takes longer than the request: after the requests whose
  // method HTTP does not define, and now and then.
  static unsigned runs = 0;
  if (ctx.req.method() == verb::unknown || ++runs % 256 == 0) check_metrics();
  return 0;
}
