#include "api/videos.hpp"

#include "api/input.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "http/file_response.hpp"
#include "http/multipart.hpp"
#include "model/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <map>

namespace reel::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::context;
using http::response;
using http::status;

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;
constexpr std::size_t k_write_batch = 1 << 20;
constexpr std::size_t k_max_field_bytes = 16 * 1024;

// Collects an upload: file bytes batched for the pool, text fields kept.
class upload_sink final : public http::multipart_parser::sink {
 public:
  void on_part_begin(const http::multipart_parser::part_info& part) override {
    current_ = part.name;
    if (part.name == "file") {
      if (saw_file) throw error(errc::bad_request, "The upload has more than one part named \"file\".");
      saw_file = true;
      filename = part.filename.value_or("");
      content_type = part.content_type;
    } else if (part.name == "title" || part.name == "description") {
      fields[part.name].clear();
    }
  }
  void on_part_data(std::string_view bytes) override {
    if (current_ == "file") {
      file_bytes(bytes);
    } else if (current_ == "title" || current_ == "description") {
      auto& f = fields[current_];
      if (f.size() + bytes.size() > k_max_field_bytes)
        throw error(errc::bad_request, "The field \"" + current_ + "\" is too long.");
      f.append(bytes);
    }  // other parts are skipped
  }
  void on_part_end() override { current_.clear(); }

  void file_bytes(std::string_view bytes) { pending.append(bytes); }

  std::string pending;  // file bytes not yet written
  bool saw_file = false;
  std::string filename, content_type;
  std::map<std::string, std::string> fields;

 private:
  std::string current_;
};

bool is_raw_upload_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string t(type);
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return (t.starts_with("video/") && t.size() > 6) || t == "application/octet-stream";
}

struct page_cursor_codec {
  static std::string encode(const model::video& v) {
    std::string raw = v.created_at + "|" + v.id;
    std::string out;
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char c : raw) {
      out += hex[c >> 4];
      out += hex[c & 15];
    }
    return out;
  }
  static db::video_page_cursor decode(const std::string& text) {
    auto bad = [] { return error(errc::bad_request, "The parameter \"cursor\" is not a cursor this server made."); };
    if (text.size() % 2 || text.size() > 400) throw bad();
    std::string raw;
    for (std::size_t i = 0; i < text.size(); i += 2) {
      auto h = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw bad();
      };
      raw += static_cast<char>(h(text[i]) * 16 + h(text[i + 1]));
    }
    auto bar = raw.find('|');
    if (bar == std::string::npos) throw bad();
    db::video_page_cursor c{raw.substr(0, bar), raw.substr(bar + 1)};
    if (!from_iso8601(c.created_at) || !storage::is_valid_id(c.id)) throw bad();
    return c;
  }
};

// The query parameter `name` as an integer in [min, max]; nullopt when it
// is absent, error(bad_request) naming it when it is anything else.
std::optional<int> query_int(const context& ctx, const char* name, long min, long max) {
  auto text = ctx.query(name);
  if (!text) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || v < min || v > max)
    throw error(errc::bad_request, std::string("The parameter \"") + name + "\" must be an integer from " +
                                       std::to_string(min) + " to " + std::to_string(max) + ".");
  return static_cast<int>(v);
}

// The caller may stream videos of organizations they belong to; the
// organization is the video's own (a <video> element cannot send
// X-Organization-Id), and an explicit X-Organization-Id must match it.
void check_stream_access(const context& ctx, const model::video& v) {
  if (!resource_membership(ctx, v.organization_id)) throw error(errc::not_found, "No such video.");
}

// The video `id` if the caller may stream it and it is ready: 404 for an
// unknown or foreign video, 409 while it is not ready.
asio::awaitable<model::video> find_streamable(video_services& s, const context& ctx, const std::string& id) {
  if (!storage::is_valid_id(id)) throw error(errc::not_found, "No such video.");
  auto v = co_await s.db.read([&](db::transaction& st) { return db::find_video_any_org(st, id); });
  if (!v) throw error(errc::not_found, "No such video.");
  check_stream_access(ctx, *v);
  if (v->status != model::video_status::ready)
    throw error(errc::conflict,
                "The video is not ready to play yet (it is " + std::string(model::status_name(v->status)) + ").");
  co_return std::move(*v);
}

// The MIME type of an HLS file path ("master.m3u8", "360p/seg_001.ts"), or
// nullopt for anything else: at most two plain names.
std::optional<std::string> hls_file_type(std::string_view rest) {
  if (!storage::is_plain_relative_path(rest, 2, 100)) return std::nullopt;
  if (rest.ends_with(".m3u8")) return std::string("application/vnd.apple.mpegurl");
  if (rest.ends_with(".ts")) return std::string("video/mp2t");
  return std::nullopt;
}

}  // namespace

const stream_cache::entry* stream_cache::find(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  if (std::chrono::steady_clock::now() >= it->second.until) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void stream_cache::put(const model::video& v, http::file_info f) {
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[v.id] = entry{v, std::move(f), std::chrono::steady_clock::now() + ttl_};
}

std::uint64_t list_cache::generation(const std::string& org) const {
  auto it = generations_.find(org);
  return it == generations_.end() ? 0 : it->second;
}

const std::string* list_cache::find(const std::string& key, const std::string& org) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (std::chrono::steady_clock::now() >= it->second.until || it->second.generation != generation(org)) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second.body;
}

void list_cache::put(const std::string& key, const std::string& org, std::uint64_t generation, std::string body) {
  if (generation != this->generation(org)) return;  // changed while it was read
  if (entries_.size() >= capacity_) entries_.clear();
  entries_[key] = entry{org, std::move(body), generation, std::chrono::steady_clock::now() + ttl_};
}

std::string default_title(std::string_view filename) {
  auto dot = filename.rfind('.');
  std::string stem(dot == std::string_view::npos || dot == 0 ? filename : filename.substr(0, dot));
  if (stem.empty() || stem == "upload") return "Untitled";
  std::size_t chars = 0, i = 0;
  for (; i < stem.size(); ++i)
    if ((static_cast<unsigned char>(stem[i]) & 0xC0) != 0x80 && ++chars > 200) break;
  return stem.substr(0, i);
}

std::string clean_filename(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  // Drop invalid UTF-8, control characters and bidirectional overrides (a
  // name like "clip\u202Egpj.exe" shows as "clipexe.jpg"), and cut at 255
  // bytes on a character boundary.
  std::string valid;
  for (std::size_t i = 0; i < name.size();) {
    auto u = static_cast<unsigned char>(name[i]);
    std::size_t len = u < 0x80 ? 1 : (u >> 5) == 6 ? 2 : (u >> 4) == 14 ? 3 : (u >> 3) == 30 ? 4 : 1;
    std::string_view one = name.substr(i, len);
    if (one.size() != len || !utf8_check(one) || has_unsafe_char(one)) {
      ++i;
      continue;
    }
    if (valid.size() + len > 255) break;
    valid.append(one);
    i += len;
  }
  while (!valid.empty() && (valid.front() == ' ' || valid.front() == '.')) valid.erase(0, 1);
  if (valid.empty()) return "upload";
  return valid;
}

std::string clean_media_type(std::string_view type) {
  std::string t(type.substr(0, type.find(';')));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool ok =
      !t.empty() && t.size() < 100 && t.find('/') != std::string::npos && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '+' || c == '.';
      });
  return ok ? t : "application/octet-stream";
}

std::pair<std::string, std::string> video_text_fields(const std::optional<std::string>& title,
                                                      const std::optional<std::string>& description,
                                                      const std::string& filename) {
  json::object o;
  if (title) o["title"] = *title;
  if (description) o["description"] = *description;
  auto t = optional_text(o, "title", {.min_chars = 1, .max_chars = 200});
  auto d = optional_text(o, "description", {.min_chars = 0, .max_chars = 5000});
  return {t.value_or(default_title(filename)), d.value_or("")};
}

void add_video_routes(http::router& r, const guard& g, video_services& svc) {
  video_services* s = &svc;

  // POST /api/videos: multipart/form-data or a raw body, streamed to disk.
  r.add(
      http::verb::post, "/api/videos",
      g.org(model::role::member,
            [s](context& ctx) -> asio::awaitable<response> {
              std::string_view type = ctx.header(http::field::content_type);
              auto boundary = http::multipart_boundary(type);
              if (!boundary && !is_raw_upload_type(type))
                throw error(errc::unsupported_media_type,
                            "Upload a video as multipart/form-data with a part \"file\", or as a raw body with "
                            "Content-Type video/* or application/octet-stream.");
              upload_sink sink;
              std::optional<http::multipart_parser> parser;
              if (boundary) parser.emplace(*boundary, sink);

              auto open_job = [s] { return std::make_unique<storage::temp_file>(s->files); };
              std::unique_ptr<storage::temp_file> tmp = co_await s->pool.offload(open_job);
              std::exception_ptr failure;
              std::string video_id = ids::random_id(12);
              // Batches are written on the pool while the next one is read from the socket.
              auto loop = co_await asio::this_coro::executor;
              background_job writer(s->pool, loop);
              try {
                std::vector<char> chunk(k_read_chunk);
                auto write_pending = [&tmp, &sink] { tmp->write(sink.pending); };
                for (;;) {
                  std::size_t n = co_await ctx.body->read_some(asio::buffer(chunk));
                  if (n == 0) break;
                  std::string_view bytes(chunk.data(), n);
                  if (parser)
                    parser->feed(bytes);
                  else
                    sink.file_bytes(bytes);
                  if (sink.pending.size() >= k_write_batch) {
                    co_await writer.wait();
                    writer.start([t = tmp.get(), batch = std::move(sink.pending)] { t->write(batch); });
                    sink.pending = std::string();
                  }
                }
                if (parser) parser->finish();
                co_await writer.wait();
                if (!sink.pending.empty()) {
                  co_await s->pool.offload(write_pending);
                  sink.pending.clear();
                }
                if (parser && !sink.saw_file) throw error(errc::bad_request, "The upload has no part named \"file\".");
                if (tmp->size() == 0) throw error(errc::bad_request, "The uploaded file is empty.");
              } catch (...) {
                failure = std::current_exception();
              }
              if (failure) {
                try {
                  co_await writer.wait();  // the write in flight uses tmp
                } catch (const std::exception&) {
                  // the upload fails anyway; its own error is the one to report
                }
                auto discard = [&tmp] { tmp.reset(); };
                co_await s->pool.offload(discard);
                std::rethrow_exception(failure);
              }

              std::string filename = clean_filename(parser ? sink.filename : ctx.query("filename").value_or(""));
              std::optional<std::string> title, description;
              if (parser) {
                if (sink.fields.count("title")) title = sink.fields["title"];
                if (sink.fields.count("description")) description = sink.fields["description"];
              } else {
                title = ctx.query("title");
                description = ctx.query("description");
              }
              auto [final_title, final_description] = video_text_fields(title, description, filename);

              std::string now = to_iso8601(s->time.now());
              model::video v;
              v.id = video_id;
              v.organization_id = ctx.org->id;
              v.title = final_title;
              v.description = final_description;
              v.status = model::video_status::queued;
              v.original_filename = filename;
              v.content_type = clean_media_type(parser ? sink.content_type : std::string(type));
              v.size_bytes = static_cast<std::int64_t>(tmp->size());
              v.created_by = ctx.principal->user.id;
              v.created_at = v.updated_at = now;
              model::job j;
              j.id = ids::random_id(12);
              j.kind = "process_video";
              j.organization_id = v.organization_id;
              j.video_id = v.id;
              j.max_attempts = s->max_job_attempts;
              j.run_after = j.created_at = j.updated_at = now;

              auto final_path = s->files.original(v.organization_id, v.id);
              auto commit_job = [&tmp, &final_path] { tmp->commit(final_path); };
              co_await s->pool.offload(commit_job);
              try {
                co_await s->db.write([&](db::transaction& st) {
                  db::insert_video(st, v);
                  db::insert_job(st, j);
                });
              } catch (...) {
                failure = std::current_exception();
              }
              if (failure) {
                auto dir = s->files.video_dir(v.organization_id, v.id);
                auto remove_job = [&dir] { storage::remove_tree(dir); };
                co_await s->pool.offload(remove_job);
                std::rethrow_exception(failure);
              }
              log::info("video uploaded", {{"video", v.id}, {"org", v.organization_id}, {"bytes", v.size_bytes}});
              s->hub.publish(event{v.organization_id, "video:created", json::object{{"video", model::video_json(v)}}});
              s->processor.notify();
              response res = http::json_response(status::created, json::object{{"video", model::video_json(v)}});
              res.set(http::field::location, "/api/videos/" + v.id);
              co_return res;
            }),
      {.body_limit = svc.max_upload_bytes, .stream_body = true});

  r.add(http::verb::get, "/api/videos", g.org(model::role::viewer, [s](context& ctx) -> asio::awaitable<response> {
    std::optional<std::string> status_text = ctx.query("status");
    std::optional<model::video_status> status_filter;
    if (status_text) {
      status_filter = model::parse_video_status(*status_text);
      if (!status_filter)
        throw error(errc::bad_request,
                    "The parameter \"status\" must be one of uploading, queued, processing, ready, failed.");
    }
    int limit = query_int(ctx, "limit", 1, 100).value_or(20);
    std::optional<std::string> cursor_text = ctx.query("cursor");
    std::optional<db::video_page_cursor> after;
    if (cursor_text && !cursor_text->empty()) after = page_cursor_codec::decode(*cursor_text);
    const std::string& org_id = ctx.org->id;
    std::string key = org_id + "|" + status_text.value_or("") + "|" + std::to_string(limit) + "|" +
                      (after ? *cursor_text : std::string());
    const std::string* cached = s->lists.enabled() ? s->lists.find(key, org_id) : nullptr;
    std::string body;
    if (cached) {
      body = *cached;
    } else {
      std::uint64_t generation = s->lists.generation(org_id);
      // The page is built and serialized on the pool: the loop only sends it.
      auto page = [&](db::transaction& st) {
        auto rows = db::list_videos(st, org_id, status_filter, after, limit);
        json::array videos;
        videos.reserve(rows.size());
        json::value next = nullptr;
        for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(limit); ++i)
          videos.push_back(model::video_json(rows[i]));
        if (rows.size() > static_cast<std::size_t>(limit)) next = page_cursor_codec::encode(rows[limit - 1]);
        return json::serialize(json::object{{"videos", std::move(videos)}, {"nextCursor", next}});
      };
      body = co_await s->db.read(page);
      if (s->lists.enabled()) s->lists.put(key, org_id, generation, body);
    }
    response res = http::json_text_response(status::ok, std::move(body));
    res.set(http::field::cache_control, "no-store");
    co_return res;
  }));

  r.add(http::verb::get, "/api/videos/:id", g.org(model::role::viewer, [s](context& ctx) -> asio::awaitable<response> {
    const std::string& org_id = ctx.org->id;
    const std::string& id = ctx.params.at("id");
    auto v = co_await s->db.read([&](db::transaction& st) { return db::find_video(st, org_id, id); });
    if (!v) throw error(errc::not_found, "No such video.");
    response res = http::json_response(status::ok, json::object{{"video", model::video_json(*v)}});
    res.set(http::field::cache_control, "no-store");
    co_return res;
  }));

  r.add(http::verb::patch, "/api/videos/:id",
        g.org(model::role::member, [s](context& ctx) -> asio::awaitable<response> {
          const auto& body = require_object(ctx.json_body());
          auto title = optional_text(body, "title", {.min_chars = 1, .max_chars = 200});
          auto description = optional_text(body, "description", {.min_chars = 0, .max_chars = 5000});
          if (!title && !description)
            throw error(errc::bad_request, "Send \"title\" or \"description\" (or both) to change.");
          const std::string& org_id = ctx.org->id;
          const std::string& id = ctx.params.at("id");
          std::string now = to_iso8601(s->time.now());
          auto v = co_await s->db.write([&](db::transaction& st) -> std::optional<model::video> {
            if (!db::update_video_text(st, org_id, id, title, description, now)) return std::nullopt;
            return db::find_video(st, org_id, id);
          });
          if (!v) throw error(errc::not_found, "No such video.");
          s->streams.invalidate(v->id);
          s->hub.publish(event{v->organization_id, "video:updated", json::object{{"video", model::video_json(*v)}}});
          co_return http::json_response(status::ok, json::object{{"video", model::video_json(*v)}});
        }));

  r.add(http::verb::delete_, "/api/videos/:id",
        g.org(model::role::member, [s](context& ctx) -> asio::awaitable<response> {
          const std::string& org_id = ctx.org->id;
          const std::string& id = ctx.params.at("id");
          auto v = co_await s->db.write([&](db::transaction& st) -> std::optional<model::video> {
            auto found = db::find_video(st, org_id, id);
            if (found) db::delete_video(st, org_id, id);
            return found;
          });
          if (!v) throw error(errc::not_found, "No such video.");
          s->streams.invalidate(id);
          co_await s->processor.cancel_video(id);  // kills its ffmpeg, if one runs here, and waits
          auto dir = s->files.video_dir(org_id, id);
          auto remove_job = [&dir] { return storage::remove_tree(dir); };
          if (!co_await s->pool.offload(remove_job)) log::warn("video files not fully removed", {{"video", id}});
          s->hub.publish(event{org_id, "video:deleted", json::object{{"id", id}}});
          co_return http::empty_response(status::no_content);
        }));

  // GET/HEAD /api/stream/:id/video. A <video> element cannot send
  // X-Organization-Id, so the organization is the video's own; the caller
  // must be a member of it (else 404, as if it did not exist).
  r.add(http::verb::get, "/api/stream/:id/video", g.user([s](context& ctx) -> asio::awaitable<response> {
    const std::string& id = ctx.params.at("id");
    const stream_cache::entry* hit = s->streams.find(id);
    if (!hit) {
      auto v = co_await find_streamable(*s, ctx, id);
      auto path = s->files.video_dir(v.organization_id, v.id) / "video.mp4";
      auto open_job = [&path] { return http::open_file_info(path); };
      auto info = co_await s->pool.offload(open_job);
      if (!info) throw error(errc::not_found, "No such video.");
      s->streams.put(v, std::move(*info));
      hit = s->streams.find(id);
    }
    check_stream_access(ctx, hit->video);
    http::file_options options;
    options.content_type = "video/mp4";
    co_return http::file_response(ctx, hit->file, options);
  }));

  // GET/HEAD /api/stream/:id/hls/master.m3u8 and /api/stream/:id/hls/<rendition>/<file>.
  r.add(http::verb::get, "/api/stream/:id/hls/*", g.user([s](context& ctx) -> asio::awaitable<response> {
    const std::string& id = ctx.params.at("id");
    const std::string& rest = ctx.params.at("*");
    auto type = hls_file_type(rest);
    if (!type) throw error(errc::not_found, "No such file.");
    auto v = co_await find_streamable(*s, ctx, id);
    auto path = s->files.video_dir(v.organization_id, v.id) / "hls" / rest;
    http::file_options options;
    options.content_type = *type;
    co_return co_await http::serve_file(ctx, s->pool, path, options);
  }));

  r.add(http::verb::get, "/api/stream/:id/thumbnail.jpg", g.user([s](context& ctx) -> asio::awaitable<response> {
    const std::string& id = ctx.params.at("id");
    std::optional<double> at;
    if (auto t = ctx.query("time")) {
      char* end = nullptr;
      double v = std::strtod(t->c_str(), &end);
      if (t->empty() || *end != '\0' || !(v >= 0) || v > 1e7)
        throw error(errc::bad_request, "The parameter \"time\" must be a number of seconds, 0 or more.");
      at = v;
    }
    std::optional<int> width = query_int(ctx, "width", 16, 1920);
    auto v = co_await find_streamable(*s, ctx, id);
    auto dir = s->files.video_dir(v.organization_id, v.id);
    http::file_options options;
    options.content_type = "image/jpeg";
    options.cache_control = "private, max-age=3600";
    if (!at && !width) {
      auto poster = dir / "poster.jpg";
      co_return co_await http::serve_file(ctx, s->pool, poster, options);
    }
    // Snapped to a small fixed set of times and widths: a client cannot fill
    // the disk with one cached frame per millisecond and pixel.
    double duration = v.duration_sec.value_or(0);
    double when = media::snap_frame_time(at.value_or(std::min(5.0, duration * 0.1)), duration);
    if (width) width = media::snap_frame_width(*width);
    auto ms = std::llround(when * 1000);
    auto output = dir / "thumbs" / ("t" + std::to_string(ms) + "_w" + std::to_string(width.value_or(0)) + ".jpg");
    auto input = dir / "video.mp4";
    double seek = static_cast<double>(ms) / 1000.0;
    char shown[32];
    std::snprintf(shown, sizeof shown, "%.3f", seek);
    if (!co_await s->thumbnails.make(input, seek, width, output)) {
      // Deleted or reprocessed while the frame was being made: answer as if asked now.
      co_await find_streamable(*s, ctx, id);  // 404 or 409 when so
      throw error(errc::internal, "The frame could not be made.");
    }
    response res = co_await http::serve_file(ctx, s->pool, output, options);
    res.set("X-Frame-Time", shown);  // the time the frame was taken at, after snapping
    co_return res;
  }));

  r.add(http::verb::post, "/api/videos/:id/reprocess",
        g.org(model::role::member, [s](context& ctx) -> asio::awaitable<response> {
          const std::string& org_id = ctx.org->id;
          const std::string& id = ctx.params.at("id");
          std::string now = to_iso8601(s->time.now());
          enum class outcome { ok, missing, busy, uploading };
          model::job j;
          j.id = ids::random_id(12);
          j.kind = "process_video";
          j.organization_id = org_id;
          j.video_id = id;
          j.max_attempts = s->max_job_attempts;
          j.run_after = j.created_at = j.updated_at = now;
          std::optional<model::video> v;
          auto result = co_await s->db.write([&](db::transaction& st) {
            auto current = db::find_video(st, org_id, id);
            if (!current) return outcome::missing;
            if (current->status == model::video_status::uploading) return outcome::uploading;
            if (db::active_job_for_video(st, id)) return outcome::busy;
            db::reset_video_for_processing(st, id, now);
            db::insert_job(st, j);
            v = db::find_video(st, org_id, id);
            return outcome::ok;
          });
          if (result == outcome::missing) throw error(errc::not_found, "No such video.");
          if (result == outcome::busy) throw error(errc::conflict, "The video is being processed already.");
          if (result == outcome::uploading)
            throw error(errc::conflict, "The video is still being uploaded; it is processed once the upload ends.");
          s->streams.invalidate(id);
          s->processor.notify();
          s->hub.publish(event{org_id, "video:updated", json::object{{"video", model::video_json(*v)}}});
          co_return http::json_response(status::accepted, json::object{{"video", model::video_json(*v)}});
        }));
}

}  // namespace reel::api
