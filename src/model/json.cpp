#include "model/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

namespace reel::model {

boost::json::object user_json(const user& u) {
  return {{"id", u.id}, {"email", u.email}, {"name", u.name}, {"createdAt", u.created_at}};
}

boost::json::object organization_json(const organization& o, role r) {
  boost::json::array origins;
  for (const auto& e : o.embed_origins) origins.push_back(boost::json::string(e));
  boost::json::value quota = nullptr;
  if (o.storage_quota_bytes) quota = *o.storage_quota_bytes;
  return {{"id", o.id},
          {"name", o.name},
          {"slug", o.slug},
          {"embedOrigins", std::move(origins)},
          {"role", role_name(r)},
          {"createdAt", o.created_at},
          {"storageUsedBytes", o.storage_used_bytes},
          {"storageQuotaBytes", std::move(quota)},
          {"downloadRenditions", o.download_renditions},
          {"downloadSource", o.download_source}};
}

boost::json::object organization_json(const membership& m) { return organization_json(m.org, m.role); }

boost::json::object member_json(const member& m) {
  return {{"user", {{"id", m.user_id}, {"email", m.email}, {"name", m.name}}},
          {"role", role_name(m.role)},
          {"joinedAt", m.joined_at}};
}

namespace {
template <class T>
boost::json::value nullable(const std::optional<T>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}
}  // namespace

boost::json::object video_json(const video& v) {
  boost::json::object o;
  o.reserve(24);
  o["id"] = v.id;
  o["organizationId"] = v.organization_id;
  o["title"] = v.title;
  o["description"] = v.description;
  o["status"] = status_name(v.status);
  o["visibility"] = visibility_name(v.visibility);
  o["viewCount"] = v.view_count;
  if (v.progress_stage)
    o["progress"] = {{"stage", *v.progress_stage}, {"percent", v.progress_percent.value_or(0)}};
  else
    o["progress"] = nullptr;
  o["error"] = nullable(v.error);
  o["originalFilename"] = v.original_filename;
  o["sizeBytes"] = v.size_bytes;
  o["durationSec"] = nullable(v.duration_sec);
  o["width"] = nullable(v.width);
  o["height"] = nullable(v.height);
  o["videoCodec"] = nullable(v.video_codec);
  o["audioCodec"] = nullable(v.audio_codec);
  boost::system::error_code ec;
  auto renditions = boost::json::parse(v.renditions, ec);
  o["renditions"] = ec || !renditions.is_array() ? boost::json::value(boost::json::array()) : renditions;
  bool ready = v.status == video_status::ready;
  std::string base = "/api/stream/" + v.id;
  o["thumbnailUrl"] = ready ? boost::json::value(base + "/thumbnail.jpg") : boost::json::value(nullptr);
  o["streamUrl"] = ready ? boost::json::value(base + "/video") : boost::json::value(nullptr);
  // Early playback: the HLS of a stream copy plays while the ladder is made.
  bool playable = ready || (v.status == video_status::processing && v.playable_at);
  o["playable"] = playable;
  o["hlsUrl"] = playable ? boost::json::value(base + "/hls/master.m3u8") : boost::json::value(nullptr);
  o["storyboardUrl"] = ready ? boost::json::value(base + "/storyboard.vtt") : boost::json::value(nullptr);
  const char* poster_source = v.poster_image ? "image" : v.poster_time ? "time" : "auto";
  o["poster"] = {{"source", poster_source}, {"time", nullable(v.poster_time)}, {"version", v.poster_version}};
  o["createdBy"] = nullable(v.created_by);
  o["createdAt"] = v.created_at;
  o["updatedAt"] = v.updated_at;
  o["readyAt"] = nullable(v.ready_at);
  return o;
}

}  // namespace reel::model
