#include "model/events.hpp"

#include "model/json.hpp"

#include <cmath>

namespace reel::model {

namespace json = boost::json;

event video_created(const video& v) {
  return {v.organization_id, "video:created", json::object{{"video", video_json(v)}}};
}

event video_updated(const video& v) {
  return {v.organization_id, "video:updated", json::object{{"video", video_json(v)}}};
}

event video_deleted(const std::string& org_id, const std::string& video_id) {
  return {org_id, "video:deleted", json::object{{"id", video_id}}};
}

event video_progress(const std::string& org_id, const std::string& video_id, std::string_view stage, double percent) {
  return {org_id, "video:progress",
          json::object{{"id", video_id}, {"stage", std::string(stage)}, {"percent", std::round(percent)}}};
}

event video_ready(const video& v) { return {v.organization_id, "video:ready", json::object{{"video", video_json(v)}}}; }

event video_playable(const video& v) {
  return {v.organization_id, "video:playable", json::object{{"video", video_json(v)}}};
}

event video_failed(const std::string& org_id, const std::string& video_id, const std::string& reason) {
  return {org_id, "video:failed", json::object{{"id", video_id}, {"error", reason}}};
}

}  // namespace reel::model
