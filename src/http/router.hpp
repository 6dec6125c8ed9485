// Maps a method and a path to a handler. Patterns are made of literal
// segments, `:name` segments (one path segment, percent-decoded) and a final
// `*` (the rest of the path, may contain slashes). HEAD falls back to GET.
#pragma once

#include "http/message.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reel::http {

struct route_options {
  // Largest request body this route accepts; 0 = the server default.
  std::uint64_t body_limit = 0;
  // The handler reads the body itself through ctx.body (uploads), after it
  // has authenticated the request; it is never held whole in memory.
  bool stream_body = false;
};

struct route {
  verb method;
  std::string pattern;
  handler handle;
  route_options options;
};

class router {
 public:
  // Adds a route. Throws std::invalid_argument for a malformed pattern or a
  // duplicate (method, pattern).
  void add(verb method, std::string pattern, handler h, route_options options = {});

  struct match {
    enum class kind { found, not_found, method_not_allowed } outcome = kind::not_found;
    const route* matched = nullptr;  // set when found
    std::string allow;               // set when method_not_allowed or found: "GET, HEAD"
  };

  // Finds the route for `method` and `path` (no query), filling `params`.
  // A HEAD request uses the GET route when there is no HEAD route.
  match find(verb method, std::string_view path, route_params& params) const;

  // The methods any route for `path` accepts ("GET, HEAD, POST"), or empty.
  std::string allowed_methods(std::string_view path) const;

  // Every route, in the order they were added (for `reel serve --print-routes`).
  std::vector<const route*> routes() const;

 private:
  struct segment {
    enum class kind { literal, param, rest } type;
    std::string text;  // literal text or parameter name
  };
  struct entry {
    route r;
    std::vector<segment> segments;
  };

  static bool matches(const entry& e, const std::vector<std::string_view>& parts, route_params* params);

  std::vector<entry> entries_;
};

// Splits a path into its segments ("/a/b/" → "a", "b", ""). Returns false for
// a path that does not start with '/'.
bool split_path(std::string_view path, std::vector<std::string_view>& parts);

// Percent-decodes one path segment or query component ('+' is a space when
// `plus_is_space`). Returns false on a malformed escape or a decoded NUL.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);

// A handler that calls `fn(state, ctx)`, so that route tables can name plain
// functions: `r.add(verb::get, "/x", bind_handler(api, get_x))`.
template <class State, class Fn>
handler bind_handler(State& state, Fn fn) {
  return [&state, fn](context& ctx) { return fn(state, ctx); };
}

}  // namespace reel::http
