#include "http/middleware.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "http/router.hpp"

#include <algorithm>

namespace reel::http {

namespace asio = boost::asio;

handler compose(std::vector<middleware> chain, handler last) {
  handler h = std::move(last);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    h = [mw = std::move(*it), next = std::move(h)](context& ctx) { return mw(ctx, next); };
  }
  return h;
}

middleware request_id() {
  return [](context& ctx, const handler& next) -> asio::awaitable<response> {
    std::string_view incoming = ctx.header("X-Request-Id");
    ctx.request_id = ids::is_safe_token(incoming) ? std::string(incoming) : ids::fast_id();
    response res = co_await next(ctx);
    res.set("X-Request-Id", ctx.request_id);
    co_return res;
  };
}

middleware access_log(metrics& m) {
  return [&m](context& ctx, const handler& next) -> asio::awaitable<response> {
    response res = co_await next(ctx);
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    std::string_view method = ctx.req.method_string();
    // A method HTTP does not define is counted as OTHER: clients may invent
    // any number of them, and each would be a series of its own forever.
    std::string_view label = ctx.req.method() == verb::unknown && method != "-" ? "OTHER" : method;
    m.observe_request(label, ctx.route, res.result_int(), elapsed);
    if (log::enabled(log::level::info)) {
      auto length = res.find(field::content_length);
      log::info("request", {{"method", method},
                            {"route", ctx.route},
                            {"status", res.result_int()},
                            {"bytes", length == res.end() ? std::string_view("0") : std::string_view(length->value())},
                            {"ms", elapsed * 1000},
                            {"id", ctx.request_id}});
    }
    co_return res;
  };
}

middleware security_headers(bool hsts) {
  return [hsts](context& ctx, const handler& next) -> asio::awaitable<response> {
    response res = co_await next(ctx);
    // A handler that sets its own policy decides its framing (the embed
    // page's frame-ancestors): no X-Frame-Options to contradict it.
    const bool own_policy = res.find("Content-Security-Policy") != res.end();
    auto set_default = [&res](std::string_view name, std::string_view value) {
      if (res.find(name) == res.end()) res.set(name, value);
    };
    set_default("Content-Security-Policy",
                "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
                "frame-ancestors 'none';img-src 'self' data: blob:;media-src 'self' blob: data:;object-src 'none';"
                "script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';"
                "connect-src 'self' ws: wss:;worker-src 'self' blob:");
    set_default("Cross-Origin-Opener-Policy", "same-origin");
    set_default("Cross-Origin-Resource-Policy", "same-origin");
    set_default("Origin-Agent-Cluster", "?1");
    set_default("Referrer-Policy", "no-referrer");
    set_default("X-Content-Type-Options", "nosniff");
    set_default("X-DNS-Prefetch-Control", "off");
    set_default("X-Download-Options", "noopen");
    if (!own_policy) set_default("X-Frame-Options", "DENY");
    set_default("X-Permitted-Cross-Domain-Policies", "none");
    set_default("X-XSS-Protection", "0");
    if (hsts) set_default("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    co_return res;
  };
}

namespace {

constexpr std::string_view k_exposed_headers =
    "X-Request-Id, Content-Range, Accept-Ranges, Content-Length, ETag, Last-Modified, Location, Retry-After, "
    "X-Video-Id, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Expires, Upload-Concat, "
    "Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm";
constexpr std::string_view k_allowed_methods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view k_allowed_headers =
    "Authorization, Content-Type, X-Organization-Id, X-Request-Id, X-Requested-With, X-HTTP-Method-Override, Range, "
    "If-Range, If-None-Match, If-Modified-Since, Upload-Length, Upload-Offset, Upload-Metadata, Upload-Defer-Length, "
    "Upload-Concat, Upload-Checksum, Tus-Resumable";

// A requested header list is echoed back only when it is plain tokens.
bool is_header_list(std::string_view s) {
  if (s.size() > 1024) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ',' || c == ' ';
  });
}

}  // namespace

middleware cors(std::vector<std::string> allowed_origins, std::vector<std::string> open_prefixes) {
  return [origins = std::move(allowed_origins), open = std::move(open_prefixes)](
             context& ctx, const handler& next) -> asio::awaitable<response> {
    std::string_view origin = ctx.header(field::origin);
    bool allowed = !origin.empty() && std::find(origins.begin(), origins.end(), origin) != origins.end();
    bool preflight = ctx.req.method() == verb::options && !origin.empty() &&
                     !ctx.header(field::access_control_request_method).empty();
    response res;
    if (preflight && !allowed && std::any_of(open.begin(), open.end(), [p = ctx.path()](const std::string& prefix) {
          return p.starts_with(prefix);
        })) {
      // Read by any site without credentials (public playback, signed links).
      res = empty_response(status::no_content);
      std::string_view requested = ctx.header(field::access_control_request_headers);
      res.set(field::access_control_allow_origin, "*");
      res.set(field::access_control_allow_methods, "GET, HEAD, OPTIONS");
      res.set(field::access_control_allow_headers,
              !requested.empty() && is_header_list(requested) ? requested : "Range, If-Range, If-None-Match");
      res.set(field::access_control_max_age, "86400");
      res.set(field::vary, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      co_return res;
    }
    if (preflight) {
      res = empty_response(status::no_content);
      if (allowed) {
        std::string_view requested = ctx.header(field::access_control_request_headers);
        res.set(field::access_control_allow_methods, k_allowed_methods);
        res.set(field::access_control_allow_headers,
                !requested.empty() && is_header_list(requested) ? requested : k_allowed_headers);
        res.set(field::access_control_max_age, "86400");
      }
      res.set(field::vary, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    } else {
      res = co_await next(ctx);
      if (res.find(field::vary) == res.end())
        res.set(field::vary, "Origin");
      else if (res[field::vary].find("Origin") == std::string_view::npos)
        res.set(field::vary, std::string(res[field::vary]) + ", Origin");
      if (allowed) res.set(field::access_control_expose_headers, k_exposed_headers);
    }
    if (allowed) {
      res.set(field::access_control_allow_origin, origin);
      res.set(field::access_control_allow_credentials, "true");
    }
    co_return res;
  };
}

namespace {

// The answer to a failure whose detail is not for the client: by its code,
// in words of our own; the detail goes to the log with the request id.
response internal_failure_response(const context& ctx, const internal_failure& e) {
  switch (e.code()) {
    case errc::unavailable: {
      log::warn("request failed: a dependency is unavailable",
                {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      response res = error_response(errc::unavailable, "The database is unavailable right now; try again shortly.");
      res.set(field::retry_after, "5");
      return res;
    }
    case errc::insufficient_storage:
      log::warn("request failed: out of storage", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      return error_response(errc::insufficient_storage, std::string(k_out_of_storage));
    case errc::conflict:
      log::warn("request failed: a conflict", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      return error_response(errc::conflict, "The change conflicts with data saved meanwhile; try again.");
    default:
      log::error("request failed", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      return error_response(errc::internal, "Something went wrong on our side (request id " + ctx.request_id + ").");
  }
}

// The answer to a failed system call that reached the middleware (a
// std::system_error or std::filesystem::filesystem_error from storage): a
// full volume is 507, a resource that ran out for a while 503 with
// Retry-After (errc_of says which), anything else 500.
response system_failure_response(const context& ctx, const std::system_error& e) {
  switch (errc_of(e.code())) {
    case errc::insufficient_storage:
      log::warn("request failed: out of storage", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      return error_response(errc::insufficient_storage, std::string(k_out_of_storage));
    case errc::unavailable: {
      log::warn("request failed: a resource ran out",
                {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      response res =
          error_response(errc::unavailable, "The server is short of resources right now; try again shortly.");
      res.set(field::retry_after, "2");
      return res;
    }
    default:
      log::error("request failed", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      return error_response(errc::internal, "Something went wrong on our side (request id " + ctx.request_id + ").");
  }
}

}  // namespace

middleware error_handler() {
  return [](context& ctx, const handler& next) -> asio::awaitable<response> {
    std::optional<response> failed;
    try {
      co_return co_await next(ctx);
    } catch (const client_gone&) {
      throw;  // nobody to answer; the server closes the connection
    } catch (const error& e) {
      failed = error_response(e.code(), e.what());
      if (e.retry_after()) failed->set(field::retry_after, std::to_string(e.retry_after()->count()));
      if (e.code() == errc::internal)
        log::error("request failed", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
    } catch (const internal_failure& e) {
      failed = internal_failure_response(ctx, e);
    } catch (const std::system_error& e) {
      failed = system_failure_response(ctx, e);
    } catch (const std::exception& e) {
      log::error("unhandled exception", {{"id", ctx.request_id}, {"route", ctx.route}, {"error", e.what()}});
      failed = error_response(errc::internal, "Something went wrong on our side (request id " + ctx.request_id + ").");
    }
    co_return std::move(*failed);
  };
}

handler dispatch_route() {
  return [](context& ctx) -> asio::awaitable<response> {
    if (ctx.rejection) throw error(ctx.rejection->first, ctx.rejection->second);
    if (ctx.matched) co_return co_await ctx.matched->handle(ctx);
    if (!ctx.allow.empty()) {
      if (ctx.req.method() == verb::options) {
        response res = empty_response(status::no_content);
        res.set(field::allow, ctx.allow);
        co_return res;
      }
      response res = error_response(errc::method_not_allowed, "The method " + std::string(ctx.req.method_string()) +
                                                                  " is not allowed here; allowed: " + ctx.allow + ".");
      res.set(field::allow, ctx.allow);
      co_return res;
    }
    throw error(errc::not_found, "No such resource.");
  };
}

}  // namespace reel::http
