#include "cluster/hub.hpp"

#include "core/log.hpp"

namespace reel::cluster {

namespace json = boost::json;

redis_event_hub::redis_event_hub(link& l) : link_(l) {
  link_.on(events_channel, [this](const json::object& m) { receive(m); });
}

void redis_event_hub::publish(const event& e) {
  local_.publish(e);
  link_.publish(events_channel, json::object{{"org", e.organization_id}, {"name", e.name}, {"payload", e.payload}});
}

void redis_event_hub::receive(const json::object& m) {
  const json::string* org = m.if_contains("org") ? m.at("org").if_string() : nullptr;
  const json::string* name = m.if_contains("name") ? m.at("name").if_string() : nullptr;
  const json::value* payload = m.if_contains("payload");
  if (!org || !name || !payload) {
    log::warn("cluster: ignored an event without org, name or payload");
    return;
  }
  local_.publish(event{std::string(*org), std::string(*name), *payload});
}

}  // namespace reel::cluster
