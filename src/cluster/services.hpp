// Everything a process of a cluster shares through Redis, built together:
// the link, the event hub over it, login throttling, rate limits and upload writer locks.
#pragma once

#include "cluster/coordination.hpp"
#include "cluster/hub.hpp"
#include "cluster/link.hpp"

namespace reel::cluster {

struct services {
  services(boost::asio::any_io_executor ex, const redis::url& where, link_options lo, const clock& c,
           auth::throttle_limits throttle, lock_options locks = {})
      : line(ex, where, std::move(lo)), hub(line), logins(line, c, throttle), rates(line, c), writers(line, locks) {}
  link line;
  redis_event_hub hub;
  redis_login_limiter logins;
  redis_rate_limiter rates;
  redis_writer_locks writers;
};

}  // namespace reel::cluster
