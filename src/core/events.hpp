// The event hub's interface: what happened to a video, for everyone in its
// organization. Producers (jobs, api) publish; the realtime layer delivers
// to sockets (and, on several nodes, through Redis). Loop thread only.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>

namespace reel {

struct event {
  std::string organization_id;
  std::string name;  // "video:created", "video:progress", ...
  boost::json::value payload;
};

class event_hub {
 public:
  using subscriber = std::function<void(const event&)>;
  virtual ~event_hub() = default;
  virtual void publish(const event& e) = 0;
  // Returns a handle for unsubscribe().
  virtual std::size_t subscribe(subscriber s) = 0;
  virtual void unsubscribe(std::size_t handle) = 0;
};

// The hub of one process: delivers synchronously to its subscribers.
class local_event_hub final : public event_hub {
 public:
  void publish(const event& e) override {
    for (auto& [id, s] : subscribers_) s(e);
  }
  std::size_t subscribe(subscriber s) override {
    subscribers_.emplace(++next_, std::move(s));
    return next_;
  }
  void unsubscribe(std::size_t handle) override { subscribers_.erase(handle); }

 private:
  std::size_t next_ = 0;
  std::unordered_map<std::size_t, subscriber> subscribers_;
};

}  // namespace reel
