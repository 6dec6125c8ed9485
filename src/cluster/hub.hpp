// The event hub of a process in a cluster: an event published here reaches
// this process's subscribers at once and, through Redis, every other
// process's (a worker's progress reaches the Socket.IO rooms of every API
// node). Loop thread only.
#pragma once

#include "cluster/link.hpp"
#include "core/events.hpp"

namespace reel::cluster {

class redis_event_hub final : public event_hub {
 public:
  // Registers its channel on `l`: call before l.start().
  explicit redis_event_hub(link& l);
  void publish(const event& e) override;
  std::size_t subscribe(subscriber s) override { return local_.subscribe(std::move(s)); }
  void unsubscribe(std::size_t handle) override { local_.unsubscribe(handle); }

 private:
  void receive(const boost::json::object& message);

  link& link_;
  local_event_hub local_;
};

}  // namespace reel::cluster
