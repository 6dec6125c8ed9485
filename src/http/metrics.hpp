// Prometheus metrics of the process: requests by route and status, a
// latency histogram per route, event-loop lag, and gauges that other modules
// register (open sockets, jobs by state). Loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace reel::http {

class histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  void observe(double v) noexcept;
  // Appends `name_bucket{labels,le=...}`, `name_sum` and `name_count` lines.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const noexcept { return count_; }
  // The smallest bucket bound holding at least q of the observations (an upper estimate).
  double quantile_upper_bound(double q) const noexcept;

 private:
  std::array<std::uint64_t, bounds.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class metrics {
 public:
  void observe_request(std::string_view method, std::string_view route, unsigned status, double seconds);
  void observe_loop_lag(double seconds);
  double last_loop_lag() const noexcept { return last_lag_; }

  // A gauge read when /metrics is rendered. `labels` like `state="queued"` or empty.
  void add_gauge(std::string name, std::string help, std::string labels, std::function<double()> read);

  std::string render() const;

 private:
  // Per route: the latency histogram and counts by (method, status). Found
  // without allocating once a route has been seen.
  struct route_stats {
    histogram latency;
    struct count {
      std::string method;
      unsigned status;
      std::uint64_t n;
    };
    std::vector<count> counts;
  };
  std::map<std::string, route_stats, std::less<>> routes_;
  histogram loop_lag_;
  double last_lag_ = 0;
  double max_lag_ = 0;
  struct gauge {
    std::string name, help, labels;
    std::function<double()> read;
  };
  std::vector<gauge> gauges_;
};

}  // namespace reel::http
