#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace reel::http {

bool split_path(std::string_view path, std::vector<std::string_view>& parts) {
  parts.clear();
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += plus_is_space && in[i] == '+' ? ' ' : in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return false;
    out += c;
    i += 2;
  }
  return true;
}

void router::add(verb method, std::string pattern, handler h, route_options options) {
  std::vector<std::string_view> parts;
  if (!split_path(pattern, parts)) throw std::invalid_argument("route pattern must start with '/': " + pattern);
  entry e{route{method, pattern, std::move(h), options}, {}};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p == "*") {
      if (i + 1 != parts.size()) throw std::invalid_argument("'*' must be the last segment: " + pattern);
      e.segments.push_back({segment::kind::rest, "*"});
    } else if (p.starts_with(':')) {
      if (p.size() == 1) throw std::invalid_argument("parameter without a name: " + pattern);
      e.segments.push_back({segment::kind::param, std::string(p.substr(1))});
    } else {
      e.segments.push_back({segment::kind::literal, std::string(p)});
    }
  }
  for (const auto& other : entries_)
    if (other.r.method == method && other.r.pattern == pattern)
      throw std::invalid_argument("duplicate route: " + pattern);
  entries_.push_back(std::move(e));
}

bool router::matches(const entry& e, const std::vector<std::string_view>& parts, route_params* params) {
  const auto& segs = e.segments;
  bool has_rest = !segs.empty() && segs.back().type == segment::kind::rest;
  if (has_rest ? parts.size() < segs.size() : parts.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].type == segment::kind::literal && segs[i].text != parts[i]) return false;
    if (segs[i].type == segment::kind::param && parts[i].empty()) return false;
  }
  if (!params) return true;
  params->clear();
  std::string decoded;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].type == segment::kind::param) {
      if (!percent_decode(parts[i], decoded)) return false;
      params->add(segs[i].text, decoded);
    } else if (segs[i].type == segment::kind::rest) {
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (!percent_decode(parts[j], decoded)) return false;
        if (j > i) rest += '/';
        rest += decoded;
      }
      params->add("*", rest);
    }
  }
  return true;
}

router::match router::find(verb method, std::string_view path, route_params& params) const {
  match m;
  std::vector<std::string_view> parts;
  if (!split_path(path, parts)) return m;
  const entry* get_fallback = nullptr;
  bool any = false;
  for (const auto& e : entries_) {
    if (!matches(e, parts, nullptr)) continue;
    any = true;
    if (e.r.method == method) {
      if (matches(e, parts, &params)) {
        m.outcome = match::kind::found;
        m.matched = &e.r;
      }
      return m;  // a parameter that does not decode (%zz, %00) names nothing: 404
    } else if (method == verb::head && e.r.method == verb::get && !get_fallback) {
      get_fallback = &e;
    }
  }
  if (get_fallback) {
    if (matches(*get_fallback, parts, &params)) {
      m.outcome = match::kind::found;
      m.matched = &get_fallback->r;
    }
    return m;
  }
  if (any) {
    m.outcome = match::kind::method_not_allowed;
    m.allow = allowed_methods(path);
  }
  return m;
}

std::vector<const route*> router::routes() const {
  std::vector<const route*> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(&e.r);
  return out;
}

std::string router::allowed_methods(std::string_view path) const {
  std::vector<std::string_view> parts;
  if (!split_path(path, parts)) return {};
  std::vector<std::string> methods;
  for (const auto& e : entries_) {
    if (!matches(e, parts, nullptr)) continue;
    methods.emplace_back(beast_http::to_string(e.r.method));
    if (e.r.method == verb::get) methods.emplace_back("HEAD");
  }
  std::sort(methods.begin(), methods.end());
  methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

}  // namespace reel::http
