// The middleware chain: each middleware gets the context and the rest of the
// chain, Express-style, and returns the response. The standard set mirrors
// what the seed's Express app used (request id, morgan, helmet, cors,
// cookie-parser, express.json, an error handler).
#pragma once

#include "http/message.hpp"
#include "http/metrics.hpp"

#include <string>
#include <vector>

namespace reel::http {

using middleware = std::function<boost::asio::awaitable<response>(context&, const handler& next)>;

// Folds `chain` around `last`: the first middleware runs first. The returned
// handler owns everything it calls.
handler compose(std::vector<middleware> chain, handler last);

// Echoes a sane incoming X-Request-Id (1..128 of [A-Za-z0-9._-]) or makes one;
// sets ctx.request_id and the response header.
middleware request_id();

// One log line per request (method, route, status, bytes, duration, id) and
// the request metrics (where a method HTTP does not define counts as OTHER).
middleware access_log(metrics& m);

// Security headers comparable to helmet's defaults. `hsts` adds
// Strict-Transport-Security (only meaningful behind HTTPS).
middleware security_headers(bool hsts);

// CORS for an allowlist of exact origins, with credentials. Preflights
// (OPTIONS + Access-Control-Request-Method) are answered here with 204; an
// origin not on the list gets no Access-Control-Allow-* headers at all.
// Preflights to a path under one of `open_prefixes` from any other origin
// are allowed without credentials (GET and HEAD: public playback, whose
// handlers add `Access-Control-Allow-Origin: *` to what they allow).
middleware cors(std::vector<std::string> allowed_origins, std::vector<std::string> open_prefixes = {});

// Turns reel::error into API.md's error shape and anything else into a 500
// that names only the request id (the exception is logged, not sent).
middleware error_handler();

// The end of the chain: runs the route the server matched, or answers 404,
// 405 with Allow, or OPTIONS with Allow; raises the server's rejection.
handler dispatch_route();

}  // namespace reel::http
