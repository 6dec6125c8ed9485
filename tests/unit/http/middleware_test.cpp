#include "http/middleware.hpp"

#include "core/ids.hpp"
#include "http/router.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <filesystem>
#include <system_error>

using namespace reel::http;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

handler ok_handler() {
  return [](context&) -> asio::awaitable<response> { co_return json_response(status::ok, json::object{{"ok", true}}); };
}

context make_ctx(verb method, std::string target, std::map<std::string, std::string> headers = {}) {
  context ctx;
  ctx.req.method(method);
  ctx.req.target(target);
  for (const auto& [k, v] : headers) ctx.req.insert(k, v);
  return ctx;
}

response call(const handler& h, context& ctx) { return reel::test::run(h(ctx)); }

json::value body_json(const response& r) { return json::parse(r.body()); }

}  // namespace

TEST(compose, middleware_runs_in_order_around_the_handler) {
  std::string trace;
  auto mark = [&trace](std::string name) -> middleware {
    return [&trace, name](context& ctx, const handler& next) -> asio::awaitable<response> {
      trace += name + ">";
      auto r = co_await next(ctx);
      trace += "<" + name;
      co_return r;
    };
  };
  auto h = compose({mark("a"), mark("b")}, ok_handler());
  auto ctx = make_ctx(verb::get, "/");
  call(h, ctx);
  EXPECT_EQ(trace, "a>b><b<a");
}

TEST(request_id, sane_incoming_id_is_echoed) {
  auto h = compose({request_id()}, ok_handler());
  auto ctx = make_ctx(verb::get, "/", {{"X-Request-Id", "abc-123.x_y"}});
  auto res = call(h, ctx);
  EXPECT_EQ(res["X-Request-Id"], "abc-123.x_y");
  EXPECT_EQ(ctx.request_id, "abc-123.x_y");
}

TEST(request_id, unsafe_or_missing_id_is_replaced) {
  auto h = compose({request_id()}, ok_handler());
  for (std::string bad : {std::string("has space"), std::string("<script>"), std::string(200, 'a'), std::string()}) {
    auto ctx = bad.empty() ? make_ctx(verb::get, "/") : make_ctx(verb::get, "/", {{"X-Request-Id", bad}});
    auto res = call(h, ctx);
    EXPECT_NE(res["X-Request-Id"], bad);
    EXPECT_TRUE(reel::ids::is_safe_token(res["X-Request-Id"]));
  }
}

TEST(security_headers, helmet_defaults_are_set) {
  auto h = compose({security_headers(false)}, ok_handler());
  auto ctx = make_ctx(verb::get, "/");
  auto res = call(h, ctx);
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["X-Frame-Options"], "DENY");  // only the embed player may be framed, and it says so itself
  EXPECT_NE(res["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string_view::npos);
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(res["Cross-Origin-Opener-Policy"], "same-origin");
  EXPECT_NE(res["Content-Security-Policy"].find("default-src 'self'"), std::string_view::npos);
  EXPECT_EQ(res.find("Strict-Transport-Security"), res.end());
  EXPECT_EQ(res.find("X-Powered-By"), res.end());
  auto secure = compose({security_headers(true)}, ok_handler());
  auto ctx2 = make_ctx(verb::get, "/");
  EXPECT_NE(call(secure, ctx2).find("Strict-Transport-Security"), call(secure, ctx2).end());
}

TEST(cors, preflights_to_open_paths_are_allowed_for_any_site_without_credentials) {
  auto h = compose({cors({"https://app.example"}, {"/api/stream/"})}, ok_handler());
  auto ctx = make_ctx(verb::options, "/api/stream/abc/video",
                      {{"Origin", "https://elsewhere.example"},
                       {"Access-Control-Request-Method", "GET"},
                       {"Access-Control-Request-Headers", "range"}});
  auto res = call(h, ctx);
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "*");
  EXPECT_EQ(res.find("Access-Control-Allow-Credentials"), res.end());
  EXPECT_EQ(res["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS");
  EXPECT_EQ(res["Access-Control-Allow-Headers"], "range");
  // Elsewhere the allowlist alone decides.
  auto api = make_ctx(verb::options, "/api/videos",
                      {{"Origin", "https://elsewhere.example"}, {"Access-Control-Request-Method", "GET"}});
  auto refused = call(h, api);
  EXPECT_EQ(refused.find("Access-Control-Allow-Origin"), refused.end());
  // The app's own origin keeps its credentialed answer on open paths too.
  auto own = make_ctx(verb::options, "/api/stream/abc/video",
                      {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
  auto credentialed = call(h, own);
  EXPECT_EQ(credentialed["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_EQ(credentialed["Access-Control-Allow-Credentials"], "true");
}

TEST(cors, allowed_origin_gets_credentials_and_exposed_headers) {
  auto h = compose({cors({"https://app.example"})}, ok_handler());
  auto ctx = make_ctx(verb::get, "/", {{"Origin", "https://app.example"}});
  auto res = call(h, ctx);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_EQ(res["Access-Control-Allow-Credentials"], "true");
  EXPECT_NE(res["Access-Control-Expose-Headers"].find("Upload-Offset"), std::string_view::npos);
  EXPECT_NE(res["Vary"].find("Origin"), std::string_view::npos);
}

TEST(cors, foreign_origin_gets_no_allow_headers) {
  auto h = compose({cors({"https://app.example"})}, ok_handler());
  auto ctx = make_ctx(verb::get, "/", {{"Origin", "https://evil.example"}});
  auto res = call(h, ctx);
  EXPECT_EQ(res.result(), status::ok);
  EXPECT_EQ(res.find("Access-Control-Allow-Origin"), res.end());
  EXPECT_EQ(res.find("Access-Control-Allow-Credentials"), res.end());
}

TEST(cors, preflight_is_answered_without_reaching_the_handler) {
  bool reached = false;
  handler h0 = [&reached](context&) -> asio::awaitable<response> {
    reached = true;
    co_return empty_response(status::ok);
  };
  auto h = compose({cors({"https://app.example"})}, h0);
  auto ctx = make_ctx(verb::options, "/api/videos",
                      {{"Origin", "https://app.example"},
                       {"Access-Control-Request-Method", "PATCH"},
                       {"Access-Control-Request-Headers", "content-type, upload-offset"}});
  auto res = call(h, ctx);
  EXPECT_FALSE(reached);
  EXPECT_EQ(res.result(), status::no_content);
  EXPECT_EQ(res["Access-Control-Allow-Origin"], "https://app.example");
  EXPECT_NE(res["Access-Control-Allow-Methods"].find("PATCH"), std::string_view::npos);
  EXPECT_EQ(res["Access-Control-Allow-Headers"], "content-type, upload-offset");

  auto foreign = make_ctx(verb::options, "/api/videos",
                          {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "PATCH"}});
  auto res2 = call(h, foreign);
  EXPECT_EQ(res2.find("Access-Control-Allow-Origin"), res2.end());
  EXPECT_EQ(res2.find("Access-Control-Allow-Methods"), res2.end());
}

TEST(error_handler, api_error_becomes_the_error_shape) {
  handler h0 = [](context&) -> asio::awaitable<response> {
    throw reel::error(reel::errc::conflict, "That email is taken.");
    co_return empty_response(status::ok);
  };
  auto h = compose({error_handler()}, h0);
  auto ctx = make_ctx(verb::get, "/");
  auto res = call(h, ctx);
  EXPECT_EQ(res.result(), status::conflict);
  EXPECT_EQ(res[field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(body_json(res), json::parse(R"({"error":{"code":"conflict","message":"That email is taken."}})"));
}

TEST(error_handler, unexpected_exception_is_a_500_that_leaks_nothing) {
  handler h0 = [](context&) -> asio::awaitable<response> {
    throw std::runtime_error("SQLITE_CORRUPT at /var/secret/db line 42");
    co_return empty_response(status::ok);
  };
  auto h = compose({request_id(), error_handler()}, h0);
  auto ctx = make_ctx(verb::get, "/");
  auto res = call(h, ctx);
  EXPECT_EQ(res.result(), status::internal_server_error);
  EXPECT_EQ(res.body().find("SQLITE"), std::string::npos);
  EXPECT_EQ(res.body().find("secret"), std::string::npos);
  auto v = body_json(res);
  EXPECT_EQ(v.at("error").at("code"), "internal");
  EXPECT_NE(std::string(v.at("error").at("message").as_string()).find(ctx.request_id), std::string::npos);
}

TEST(error_handler, system_errors_are_answered_by_their_errno_without_internals) {
  auto answer = [](std::exception_ptr thrown) {
    handler h0 = [thrown](context&) -> asio::awaitable<response> {
      std::rethrow_exception(thrown);
      co_return empty_response(status::ok);
    };
    auto h = compose({request_id(), error_handler()}, h0);
    auto ctx = make_ctx(verb::post, "/api/videos");
    return call(h, ctx);
  };
  auto full = answer(std::make_exception_ptr(std::system_error(ENOSPC, std::generic_category(), "write /data/tmp/x")));
  EXPECT_EQ(full.result_int(), 507);
  EXPECT_EQ(body_json(full),
            json::parse(R"({"error":{"code":"insufficient_storage","message":"The server is out of storage."}})"));
  auto mkdir = answer(std::make_exception_ptr(
      std::filesystem::filesystem_error("mkdir", "/data/orgs", std::error_code(EDQUOT, std::generic_category()))));
  EXPECT_EQ(mkdir.result_int(), 507);
  auto database =
      answer(std::make_exception_ptr(reel::internal_failure(reel::errc::insufficient_storage, "SQLITE_FULL")));
  EXPECT_EQ(database.result_int(), 507);
  EXPECT_EQ(database.body().find("SQLITE"), std::string::npos);
  auto fds = answer(std::make_exception_ptr(std::system_error(EMFILE, std::generic_category(), "open /data/x")));
  EXPECT_EQ(fds.result_int(), 503);
  EXPECT_FALSE(fds[field::retry_after].empty());
  EXPECT_EQ(body_json(fds).at("error").at("code"), "unavailable");
  EXPECT_EQ(fds.body().find("/data"), std::string::npos);
  auto other = answer(std::make_exception_ptr(std::system_error(EACCES, std::generic_category(), "open /data/x")));
  EXPECT_EQ(other.result_int(), 500);
  EXPECT_EQ(other.body().find("/data"), std::string::npos);
}

TEST(dispatch_route, unmatched_requests_get_404_405_and_options) {
  auto h = compose({error_handler()}, dispatch_route());
  auto nf = make_ctx(verb::get, "/nope");
  auto r1 = call(h, nf);
  EXPECT_EQ(r1.result(), status::not_found);
  EXPECT_EQ(body_json(r1).at("error").at("code"), "not_found");

  auto na = make_ctx(verb::delete_, "/healthz");
  na.allow = "GET, HEAD";
  auto r2 = call(h, na);
  EXPECT_EQ(r2.result(), status::method_not_allowed);
  EXPECT_EQ(r2[field::allow], "GET, HEAD");
  EXPECT_EQ(body_json(r2).at("error").at("code"), "method_not_allowed");

  auto opt = make_ctx(verb::options, "/healthz");
  opt.allow = "GET, HEAD";
  auto r3 = call(h, opt);
  EXPECT_EQ(r3.result(), status::no_content);
  EXPECT_EQ(r3[field::allow], "GET, HEAD");
}

TEST(context, cookies_are_parsed_first_value_wins) {
  auto ctx = make_ctx(verb::get, "/", {{"Cookie", "a=1; reel_session=\"tok\"; a=2;bad; =x"}});
  ASSERT_NE(ctx.cookie("reel_session"), nullptr);
  EXPECT_EQ(*ctx.cookie("reel_session"), "tok");
  EXPECT_EQ(*ctx.cookie("a"), "1");
  EXPECT_EQ(ctx.cookie("bad"), nullptr);
  EXPECT_EQ(ctx.cookie("missing"), nullptr);
}

TEST(context, query_values_are_decoded) {
  auto ctx = make_ctx(verb::get, "/x?title=My+clip%21&empty=&flag");
  EXPECT_EQ(ctx.query("title"), "My clip!");
  EXPECT_EQ(ctx.query("empty"), "");
  EXPECT_EQ(ctx.query("flag"), "");
  EXPECT_EQ(ctx.query("nope"), std::nullopt);
  EXPECT_EQ(ctx.path(), "/x");
}

namespace {
std::string json_failure(std::string body, std::string type = "application/json") {
  auto ctx = make_ctx(verb::post, "/", {{"Content-Type", type}});
  ctx.req.body() = std::move(body);
  try {
    ctx.json_body();
  } catch (const reel::error& e) {
    return std::string(reel::code_name(e.code())) + ": " + e.what();
  }
  return "";
}
}  // namespace

TEST(context, json_body_parses_valid_json_once) {
  auto ctx = make_ctx(verb::post, "/", {{"Content-Type", "application/json; charset=utf-8"}});
  ctx.req.body() = R"({"email":"a@b.c"})";
  EXPECT_EQ(ctx.json_body().at("email"), "a@b.c");
  EXPECT_EQ(&ctx.json_body(), &ctx.json_body());
}

TEST(context, json_body_rejects_what_is_not_json_and_says_why) {
  EXPECT_EQ(
      json_failure("{\"a\":"),
      "bad_request: The request body is not valid JSON (it ends before the JSON value is complete, near byte 5).");
  EXPECT_NE(json_failure("{\"a\":1} x").find("unexpected data after the JSON value"), std::string::npos);
  EXPECT_NE(json_failure(std::string(100, '[') + std::string(100, ']')).find("nested more than 32"), std::string::npos);
  EXPECT_NE(json_failure("{\"a\":\"\xff\xfe\"}").find("bad_request"), std::string::npos);
  EXPECT_NE(json_failure("").find("empty"), std::string::npos);
  EXPECT_NE(json_failure("{}", "text/plain").find("unsupported_media_type"), std::string::npos);
}

// Found by fuzz/router.cpp: every method a client invented ("BREW",
// "X1", "X2"...) became a request counter of its own, without bound.
TEST(access_log, methods_http_does_not_define_are_counted_as_other) {
  metrics m;
  auto h = compose({access_log(m)}, ok_handler());
  for (std::string method : {"BREW", "X1", "X2"}) {
    auto ctx = make_ctx(verb::get, "/");
    ctx.req.method_string(method);
    call(h, ctx);
  }
  auto get = make_ctx(verb::get, "/");
  call(h, get);
  const std::string text = m.render();
  EXPECT_NE(text.find("method=\"OTHER\",route=\"unmatched\",status=\"200\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("method=\"GET\""), std::string::npos);
  EXPECT_EQ(text.find("BREW"), std::string::npos);
}
