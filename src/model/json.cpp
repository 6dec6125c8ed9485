#include "model/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <string_view>
#include <type_traits>

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
// Whether the video plays (HLS): ready, or early (docs/API.md "Early
// playback": a stream copy while the ladder is made). Both writers use it.
bool playable(const video& v) {
  return v.status == video_status::ready || (v.status == video_status::processing && v.playable_at);
}

// The poster's source on the wire: an uploaded image, a chosen time, or the automatic frame.
const char* poster_source(const video& v) { return v.poster_image ? "image" : v.poster_time ? "time" : "auto"; }

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
  bool can_play = playable(v);
  o["playable"] = can_play;
  o["hlsUrl"] = can_play ? boost::json::value(base + "/hls/master.m3u8") : boost::json::value(nullptr);
  o["storyboardUrl"] = ready ? boost::json::value(base + "/storyboard.vtt") : boost::json::value(nullptr);
  o["poster"] = {{"source", poster_source(v)}, {"time", nullable(v.poster_time)}, {"version", v.poster_version}};
  o["createdBy"] = nullable(v.created_by);
  o["createdAt"] = v.created_at;
  o["updatedAt"] = v.updated_at;
  o["readyAt"] = nullable(v.ready_at);
  return o;
}

}  // namespace reel::model

namespace reel::model {

using namespace std::string_view_literals;

namespace {

// What boost::json's serializer writes for each byte of a string: 0 for the
// byte itself, 'u' for \u00XX, else the letter after the backslash.
constexpr std::array<char, 256> k_escape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

void append_int(std::string& out, std::int64_t i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, end);
}

// A double as boost::json writes it (its own format, e.g. 0E0): rare enough
// in a list (progress, duration, poster time) to go through the serializer.
void append_double(std::string& out, double d) { out += boost::json::serialize(boost::json::value(d)); }

template <class T>
void append_nullable(std::string& out, const std::optional<T>& v) {
  if (!v)
    out += "null"sv;
  else if constexpr (std::is_same_v<T, std::string>)
    append_json_string(out, *v);
  else if constexpr (std::is_same_v<T, double>)
    append_double(out, *v);
  else
    append_int(out, *v);
}

// ,"key": spelled out at compile time (the key needs no escaping), so that
// writing it is one append.
template <std::size_t N>
struct json_key {
  std::array<char, N + 3> text{};
  consteval json_key(const char (&key)[N]) {  // NOLINT: implicit, for append_key<"name">
    text[0] = ',';
    text[1] = '"';
    for (std::size_t i = 0; i + 1 < N; ++i) text[2 + i] = key[i];
    text[N + 1] = '"';
    text[N + 2] = ':';
  }
};

// "key": preceded by a comma unless `first`.
template <json_key K>
void append_key(std::string& out, bool first = false) {
  out.append(K.text.data() + (first ? 1 : 0), K.text.size() - (first ? 1 : 0));
}

// The same for a key known at run time.
void append_key(std::string& out, std::string_view key) {
  out.append(",\"", 2);
  out += key;
  out.append("\":", 2);
}

void append_renditions(std::string& out, const std::string& renditions) {
  if (renditions == "[]") {  // every video until it is ready
    out += "[]"sv;
    return;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(renditions, ec);
  out += ec || !parsed.is_array() ? std::string("[]") : boost::json::serialize(parsed);
}

// The stream URLs and `playable`, as video_json writes them: the URLs are
// null until the video is ready, except the HLS one, there as soon as the
// video is playable (early playback: a stream copy while the ladder is made).
void append_stream_urls(std::string& out, const video& v) {
  bool ready = v.status == video_status::ready;
  bool can_play = playable(v);
  auto url = [&](std::string_view key, std::string_view path, bool shown) {
    append_key(out, key);
    if (!shown) {
      out += "null"sv;
      return;
    }
    out += "\"/api/stream/"sv;
    append_json_chars(out, v.id);
    append_json_chars(out, path);
    out += '"';
  };
  url("thumbnailUrl", "/thumbnail.jpg", ready);
  url("streamUrl", "/video", ready);
  append_key<"playable">(out);
  out += can_play ? "true"sv : "false"sv;
  url("hlsUrl", "/hls/master.m3u8", can_play);
  url("storyboardUrl", "/storyboard.vtt", ready);
}

}  // namespace

void append_json_chars(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto ch = static_cast<unsigned char>(text[i]);
    char c = k_escape[ch];
    if (!c) continue;
    out.append(text.data() + start, i - start);
    start = i + 1;
    out += '\\';
    if (c != 'u') {
      out += c;
    } else {
      out += "u00"sv;
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  out.append(text.data() + start, text.size() - start);
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_chars(out, text);
  out += '"';
}

void append_video_json(std::string& out, const video& v) {
  out += '{';
  append_key<"id">(out, true);
  append_json_string(out, v.id);
  append_key<"organizationId">(out);
  append_json_string(out, v.organization_id);
  append_key<"title">(out);
  append_json_string(out, v.title);
  append_key<"description">(out);
  append_json_string(out, v.description);
  append_key<"status">(out);
  append_json_string(out, status_name(v.status));
  append_key<"visibility">(out);
  append_json_string(out, visibility_name(v.visibility));
  append_key<"viewCount">(out);
  append_int(out, v.view_count);
  append_key<"progress">(out);
  if (v.progress_stage) {
    out += '{';
    append_key<"stage">(out, true);
    append_json_string(out, *v.progress_stage);
    append_key<"percent">(out);
    append_double(out, v.progress_percent.value_or(0));
    out += '}';
  } else {
    out += "null"sv;
  }
  append_key<"error">(out);
  append_nullable(out, v.error);
  append_key<"originalFilename">(out);
  append_json_string(out, v.original_filename);
  append_key<"sizeBytes">(out);
  append_int(out, v.size_bytes);
  append_key<"durationSec">(out);
  append_nullable(out, v.duration_sec);
  append_key<"width">(out);
  append_nullable(out, v.width);
  append_key<"height">(out);
  append_nullable(out, v.height);
  append_key<"videoCodec">(out);
  append_nullable(out, v.video_codec);
  append_key<"audioCodec">(out);
  append_nullable(out, v.audio_codec);
  append_key<"renditions">(out);
  append_renditions(out, v.renditions);
  append_stream_urls(out, v);
  append_key<"poster">(out);
  out += '{';
  append_key<"source">(out, true);
  append_json_string(out, poster_source(v));
  append_key<"time">(out);
  append_nullable(out, v.poster_time);
  append_key<"version">(out);
  append_int(out, v.poster_version);
  out += '}';
  append_key<"createdBy">(out);
  append_nullable(out, v.created_by);
  append_key<"createdAt">(out);
  append_json_string(out, v.created_at);
  append_key<"updatedAt">(out);
  append_json_string(out, v.updated_at);
  append_key<"readyAt">(out);
  append_nullable(out, v.ready_at);
  out += '}';
}

}  // namespace reel::model
