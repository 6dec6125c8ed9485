#include "model/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
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

// Appends to a string through a pointer into room made beforehand: each
// write is a copy and a bump, inline, where std::string::append is a call
// with its own checks (a list page makes about 1,200 of them). Each write
// makes sure of its room first and grows the string when it must, so no
// estimate can be too small. The string is trimmed to what was written
// when the writer goes.
class json_out {
 public:
  json_out(std::string& out, std::size_t expected) : out_(out) {
    std::size_t used = out.size();
    out.resize(used + expected);
    p_ = out.data() + used;
    end_ = out.data() + out.size();
  }
  ~json_out() { out_.resize(static_cast<std::size_t>(p_ - out_.data())); }
  json_out(const json_out&) = delete;
  json_out& operator=(const json_out&) = delete;

  void put(char c) {
    room(1);
    *p_++ = c;
  }
  void put(std::string_view s) {
    room(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void integer(std::int64_t i) {
    room(20);
    p_ = std::to_chars(p_, p_ + 20, i).ptr;
  }
  // `text` as it reads inside a JSON string, escaped as boost::json
  // escapes it: at most 6 bytes (\u00XX) for each of its bytes.
  void chars(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    room(text.size() * 6);
    for (char ch : text) {
      auto byte = static_cast<unsigned char>(ch);
      char e = k_escape[byte];
      if (!e) {
        *p_++ = ch;
      } else if (e != 'u') {
        p_[0] = '\\';
        p_[1] = e;
        p_ += 2;
      } else {
        std::memcpy(p_, "\\u00", 4);
        p_[4] = hex[byte >> 4];
        p_[5] = hex[byte & 15];
        p_ += 6;
      }
    }
  }
  void string(std::string_view text) {
    put('"');
    chars(text);
    put('"');
  }

 private:
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    auto used = static_cast<std::size_t>(p_ - out_.data());
    out_.resize(std::max(used + n, 2 * out_.size()));
    p_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* p_;
  char* end_;
};

// A double as boost::json writes it (its own format, e.g. 0E0): rare enough
// in a list (progress, duration, poster time) to go through the serializer.
void put_double(json_out& out, double d) { out.put(boost::json::serialize(boost::json::value(d))); }

template <class T>
void put_nullable(json_out& out, const std::optional<T>& v) {
  if (!v)
    out.put("null"sv);
  else if constexpr (std::is_same_v<T, std::string>)
    out.string(*v);
  else if constexpr (std::is_same_v<T, double>)
    put_double(out, *v);
  else
    out.integer(*v);
}

// ,"key": spelled out at compile time (the key needs no escaping), so that
// writing it is one copy.
template <std::size_t N>
struct json_key {
  std::array<char, N + 3> text{};
  consteval json_key(const char (&key)[N]) {  // NOLINT: implicit, for put_key<"name">
    text[0] = ',';
    text[1] = '"';
    for (std::size_t i = 0; i + 1 < N; ++i) text[2 + i] = key[i];
    text[N + 1] = '"';
    text[N + 2] = ':';
  }
};

// "key": preceded by a comma unless `first`.
template <json_key K>
void put_key(json_out& out, bool first = false) {
  out.put(std::string_view(K.text.data() + (first ? 1 : 0), K.text.size() - (first ? 1 : 0)));
}

void put_renditions(json_out& out, const std::string& renditions) {
  if (renditions == "[]") {  // every video until it is ready
    out.put("[]"sv);
    return;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(renditions, ec);
  if (ec || !parsed.is_array())
    out.put("[]"sv);
  else
    out.put(boost::json::serialize(parsed));
}

// The stream URLs and `playable`, as video_json writes them: the URLs are
// null until the video is ready, except the HLS one, there as soon as the
// video is playable (early playback: a stream copy while the ladder is made).
template <json_key K>
void put_url(json_out& out, const video& v, std::string_view path, bool shown) {
  put_key<K>(out);
  if (!shown) {
    out.put("null"sv);
    return;
  }
  out.put("\"/api/stream/"sv);
  out.chars(v.id);
  out.chars(path);
  out.put('"');
}

void put_stream_urls(json_out& out, const video& v) {
  bool ready = v.status == video_status::ready;
  bool can_play = playable(v);
  put_url<"thumbnailUrl">(out, v, "/thumbnail.jpg", ready);
  put_url<"streamUrl">(out, v, "/video", ready);
  put_key<"playable">(out);
  out.put(can_play ? "true"sv : "false"sv);
  put_url<"hlsUrl">(out, v, "/hls/master.m3u8", can_play);
  put_url<"storyboardUrl">(out, v, "/storyboard.vtt", ready);
}

void put_progress(json_out& out, const video& v) {
  put_key<"progress">(out);
  if (!v.progress_stage) {
    out.put("null"sv);
    return;
  }
  out.put('{');
  put_key<"stage">(out, true);
  out.string(*v.progress_stage);
  put_key<"percent">(out);
  put_double(out, v.progress_percent.value_or(0));
  out.put('}');
}

void put_poster(json_out& out, const video& v) {
  put_key<"poster">(out);
  out.put('{');
  put_key<"source">(out, true);
  out.string(poster_source(v));
  put_key<"time">(out);
  put_nullable(out, v.poster_time);
  put_key<"version">(out);
  out.integer(v.poster_version);
  out.put('}');
}

}  // namespace

void append_json_chars(std::string& out, std::string_view text) {
  json_out w(out, text.size());
  w.chars(text);
}

void append_json_string(std::string& out, std::string_view text) {
  json_out w(out, text.size() + 2);
  w.string(text);
}

void append_video_json(std::string& out, const video& v) {
  json_out w(out, 1024);
  w.put('{');
  put_key<"id">(w, true);
  w.string(v.id);
  put_key<"organizationId">(w);
  w.string(v.organization_id);
  put_key<"title">(w);
  w.string(v.title);
  put_key<"description">(w);
  w.string(v.description);
  put_key<"status">(w);
  w.string(status_name(v.status));
  put_key<"visibility">(w);
  w.string(visibility_name(v.visibility));
  put_key<"viewCount">(w);
  w.integer(v.view_count);
  put_progress(w, v);
  put_key<"error">(w);
  put_nullable(w, v.error);
  put_key<"originalFilename">(w);
  w.string(v.original_filename);
  put_key<"sizeBytes">(w);
  w.integer(v.size_bytes);
  put_key<"durationSec">(w);
  put_nullable(w, v.duration_sec);
  put_key<"width">(w);
  put_nullable(w, v.width);
  put_key<"height">(w);
  put_nullable(w, v.height);
  put_key<"videoCodec">(w);
  put_nullable(w, v.video_codec);
  put_key<"audioCodec">(w);
  put_nullable(w, v.audio_codec);
  put_key<"renditions">(w);
  put_renditions(w, v.renditions);
  put_stream_urls(w, v);
  put_poster(w, v);
  put_key<"createdBy">(w);
  put_nullable(w, v.created_by);
  put_key<"createdAt">(w);
  w.string(v.created_at);
  put_key<"updatedAt">(w);
  w.string(v.updated_at);
  put_key<"readyAt">(w);
  put_nullable(w, v.ready_at);
  w.put('}');
}

}  // namespace reel::model
