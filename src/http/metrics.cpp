#include "http/metrics.hpp"

#include <cstdio>

namespace reel::http {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Label values are route patterns and methods we chose, but escape anyway.
std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void histogram::observe(double v) noexcept {
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (v <= bounds[i]) ++buckets_[i];
  ++count_;
  sum_ += v;
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    out += std::string(name) + "_bucket{" + std::string(labels) + sep + "le=\"" + number(bounds[i]) + "\"} " +
           std::to_string(buckets_[i]) + "\n";
  }
  out += std::string(name) + "_bucket{" + std::string(labels) + sep + "le=\"+Inf\"} " + std::to_string(count_) + "\n";
  std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += std::string(name) + "_sum" + braces + " " + number(sum_) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(count_) + "\n";
}

double histogram::quantile_upper_bound(double q) const noexcept {
  if (count_ == 0) return 0;
  auto need = static_cast<std::uint64_t>(q * static_cast<double>(count_));
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (buckets_[i] >= need) return bounds[i];
  return bounds.back();
}

void metrics::observe_request(std::string_view method, std::string_view route, unsigned status, double seconds) {
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), route_stats{}).first;
  it->second.latency.observe(seconds);
  for (auto& c : it->second.counts) {
    if (c.status == status && c.method == method) {
      ++c.n;
      return;
    }
  }
  it->second.counts.push_back({std::string(method), status, 1});
}

void metrics::observe_loop_lag(double seconds) {
  loop_lag_.observe(seconds);
  last_lag_ = seconds;
  if (seconds > max_lag_) max_lag_ = seconds;
}

void metrics::add_gauge(std::string name, std::string help, std::string labels, std::function<double()> read) {
  gauges_.push_back({std::move(name), std::move(help), std::move(labels), std::move(read)});
}

std::string metrics::render() const {
  std::string out;
  out.reserve(8192);
  out += "# HELP reel_http_requests_total HTTP requests answered, by method, route and status.\n";
  out += "# TYPE reel_http_requests_total counter\n";
  for (const auto& [route, stats] : routes_) {
    for (const auto& c : stats.counts) {
      out += "reel_http_requests_total{method=\"" + escape_label(c.method) + "\",route=\"" + escape_label(route) +
             "\",status=\"" + std::to_string(c.status) + "\"} " + std::to_string(c.n) + "\n";
    }
  }
  out += "# HELP reel_http_request_duration_seconds Time from a request's head to its response, by route.\n";
  out += "# TYPE reel_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes_)
    stats.latency.render(out, "reel_http_request_duration_seconds", "route=\"" + escape_label(route) + "\"");
  out += "# HELP reel_event_loop_lag_seconds How late the loop ran a periodic timer.\n";
  out += "# TYPE reel_event_loop_lag_seconds histogram\n";
  loop_lag_.render(out, "reel_event_loop_lag_seconds", "");
  out += "# HELP reel_event_loop_lag_max_seconds The largest lag seen since start.\n";
  out += "# TYPE reel_event_loop_lag_max_seconds gauge\n";
  out += "reel_event_loop_lag_max_seconds " + number(max_lag_) + "\n";
  std::string last_name;
  for (const auto& g : gauges_) {
    if (g.name != last_name) {
      out += "# HELP " + g.name + " " + g.help + "\n";
      out += "# TYPE " + g.name + " gauge\n";
      last_name = g.name;
    }
    out += g.name + (g.labels.empty() ? "" : "{" + g.labels + "}") + " " + number(g.read()) + "\n";
  }
  return out;
}

}  // namespace reel::http
