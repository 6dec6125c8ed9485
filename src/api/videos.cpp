#include "api/videos.hpp"

#include "api/cursor.hpp"
#include "api/handler.hpp"
#include "api/input.hpp"
#include "core/clock.hpp"
#include "domain/quotas.hpp"
#include "http/multipart.hpp"
#include "model/json.hpp"
#include "storage/batch_writer.hpp"

#include <algorithm>
#include <map>

namespace reel::api {

using domain::action;

namespace {

constexpr std::size_t k_read_chunk = 64 * 1024;
constexpr std::size_t k_max_field_bytes = 16 * 1024;

// Collects a multipart upload: file bytes go to the writer, text fields are kept.
class upload_sink final : public http::multipart_parser::sink {
 public:
  void on_part_begin(const http::multipart_parser::part_info& part) override {
    current_ = part.name;
    if (part.name == "file") {
      if (saw_file) throw error(errc::bad_request, "The upload has more than one part named \"file\".");
      saw_file = true;
      filename = part.filename.value_or("");
      content_type = part.content_type;
    } else if (part.name == "title" || part.name == "description" || part.name == "visibility") {
      fields[part.name].clear();
    }
  }
  void on_part_data(std::string_view bytes) override {
    if (current_ == "file") {
      if (writer) writer->buffer(bytes);
    } else if (current_ == "title" || current_ == "description" || current_ == "visibility") {
      auto& f = fields[current_];
      if (f.size() + bytes.size() > k_max_field_bytes)
        throw error(errc::bad_request, "The field \"" + current_ + "\" is too long.");
      f.append(bytes);
    }  // other parts are skipped
  }
  void on_part_end() override { current_.clear(); }

  storage::batch_writer* writer = nullptr;  // set while the body is read
  bool saw_file = false;
  std::string filename, content_type;
  std::map<std::string, std::string> fields;

 private:
  std::string current_;
};

bool is_raw_upload_type(std::string_view content_type) {
  std::string t = media_type(content_type);
  return (t.starts_with("video/") && t.size() > 6) || t == "application/octet-stream";
}

response video_response(status s, const model::video& v) {
  return http::json_response(s, json::object{{"video", model::video_json(v)}});
}

// Reads the body into `file` (parsing multipart when `parser` is set), batch
// by batch on the pool. Throws error(bad_request) for an upload without a
// file or an empty one.
asio::awaitable<void> receive_file(video_api& api, context& ctx, storage::temp_file& file,
                                   std::optional<http::multipart_parser>& parser, upload_sink& sink,
                                   const db::storage_usage& usage) {
  auto loop = co_await asio::this_coro::executor;
  // The file may take what the quota leaves (a body of unknown length is
  // stopped there: error(payload_too_large), the file goes).
  std::optional<std::uint64_t> room;
  if (usage.quota) room = static_cast<std::uint64_t>(std::max<std::int64_t>(0, *usage.quota - usage.used));
  // error(insufficient_storage) rather than eat into the storage reserve.
  auto write = [f = &file, space = &api.files.space(), room, usage](std::uint64_t, std::string_view b) {
    if (room && f->size() + b.size() > *room) throw domain::quota_exceeded(usage);
    space->claim(b.size());
    f->write(b);
  };
  storage::batch_writer writer(api.pool, loop, write);
  sink.writer = &writer;
  std::exception_ptr failure;
  try {
    if (parser) {
      std::vector<char> chunk(k_read_chunk);
      for (;;) {
        std::size_t n = co_await ctx.body->read_some(asio::buffer(chunk));
        if (n == 0) break;
        parser->feed(std::string_view(chunk.data(), n));  // the file's bytes reach the writer through the sink
        co_await writer.write_if_full();
      }
      parser->finish();
    } else {
      for (;;) {  // a raw body is read straight into the batch
        std::size_t n = co_await ctx.body->read_some(writer.room());
        if (n == 0) break;
        writer.commit(n);
        co_await writer.write_if_full();
      }
    }
    co_await writer.flush();
  } catch (...) {
    failure = std::current_exception();
  }
  sink.writer = nullptr;
  if (failure) {
    co_await writer.settle();  // the write in flight uses the file; its own error is not the one to report
    std::rethrow_exception(failure);
  }
  if (parser && !sink.saw_file) throw error(errc::bad_request, "The upload has no part named \"file\".");
  if (file.size() == 0) throw error(errc::bad_request, "The uploaded file is empty.");
}

// POST /api/videos: multipart/form-data or a raw body, streamed to disk.
asio::awaitable<response> upload_video(video_api& api, context& ctx) {
  std::string_view type = ctx.header(http::field::content_type);
  auto boundary = http::multipart_boundary(type);
  if (!boundary && !is_raw_upload_type(type))
    throw error(errc::unsupported_media_type,
                "Upload a video as multipart/form-data with a part \"file\", or as a raw body with "
                "Content-Type video/* or application/octet-stream.");
  upload_sink sink;
  std::optional<http::multipart_parser> parser;
  if (boundary) parser.emplace(*boundary, sink);

  // A body that would take the organization past its storage quota is
  // refused before anything is written (413): its Content-Length counts
  // whole, form fields and framing included.
  auto declared_bytes = static_cast<std::int64_t>(ctx.body->content_length().value_or(0));
  auto usage = co_await api.videos.check_storage_room(*ctx.org, declared_bytes);
  // A body that cannot fit above the storage reserve is refused up front (507).
  auto open_job = [&api, declared = ctx.body->content_length().value_or(0)] {
    api.files.space().check(declared);
    return std::make_unique<storage::temp_file>(api.files);
  };
  std::unique_ptr<storage::temp_file> tmp = co_await api.pool.offload(open_job);
  std::exception_ptr failure;
  try {
    co_await receive_file(api, ctx, *tmp, parser, sink, usage);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    auto discard = [&tmp] { tmp.reset(); };
    co_await api.pool.offload(discard);
    std::rethrow_exception(failure);
  }

  std::string filename = clean_filename(parser ? sink.filename : ctx.query("filename").value_or(""));
  std::optional<std::string> title, description, visibility;
  if (parser) {
    if (sink.fields.count("title")) title = sink.fields["title"];
    if (sink.fields.count("description")) description = sink.fields["description"];
    if (sink.fields.count("visibility")) visibility = sink.fields["visibility"];
  } else {
    title = ctx.query("title");
    description = ctx.query("description");
    visibility = ctx.query("visibility");
  }
  auto [final_title, final_description] = video_text_fields(title, description, filename);
  domain::videos::new_video fields{final_title, final_description, filename,
                                   clean_media_type(parser ? sink.content_type : std::string(type)),
                                   visibility_field(visibility)};
  auto v = co_await api.videos.add(*ctx.principal, *ctx.org, *tmp, fields);
  response res = video_response(status::created, v);
  res.set(http::field::location, "/api/videos/" + v.id);
  co_return res;
}

// One page of a video list, as JSON text (built on the pool), written
// straight into the body: the same bytes as serializing {videos, nextCursor}.
std::string render_page(const std::vector<model::video>& rows, int limit) {
  auto shown = std::min(rows.size(), static_cast<std::size_t>(limit));
  std::string out;
  out.reserve(64 + shown * 640);
  out += "{\"videos\":[";
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += ',';
    model::append_video_json(out, rows[i]);
  }
  out += "],\"nextCursor\":";
  if (rows.size() > static_cast<std::size_t>(limit))
    model::append_json_string(out, encode_video_cursor(rows[limit - 1]));
  else
    out += "null";
  out += '}';
  return out;
}

// GET /api/videos?status=&limit=&cursor=
asio::awaitable<response> list_videos(video_api& api, context& ctx) {
  domain::videos::list_query q;
  std::optional<std::string> status_text = ctx.query("status");
  if (status_text) {
    q.status = model::parse_video_status(*status_text);
    if (!q.status)
      throw error(errc::bad_request,
                  "The parameter \"status\" must be one of uploading, queued, processing, ready, failed.");
  }
  q.limit = query_int(ctx, "limit", 1, 100).value_or(20);
  std::optional<std::string> cursor_text = ctx.query("cursor");
  if (cursor_text && !cursor_text->empty()) q.after = decode_video_cursor(*cursor_text);
  const std::string& org_id = ctx.org->id;
  std::string key = org_id + "|" + status_text.value_or("") + "|" + std::to_string(q.limit) + "|" +
                    (q.after ? *cursor_text : std::string());
  const std::string* cached = api.lists.enabled() ? api.lists.find(key, org_id) : nullptr;
  std::string body;
  if (cached) {
    body = *cached;
  } else {
    std::uint64_t generation = api.lists.generation(org_id);
    int limit = q.limit;
    domain::videos::page_renderer render = [limit](const std::vector<model::video>& rows) {
      return render_page(rows, limit);
    };
    body = co_await api.videos.list(*ctx.org, q, render);
    if (api.lists.enabled()) api.lists.put(key, org_id, generation, body);
  }
  response res = http::json_text_response(status::ok, std::move(body));
  res.set(http::field::cache_control, "no-store");
  co_return res;
}

// GET /api/videos/:id
asio::awaitable<response> get_video(video_api& api, context& ctx) {
  auto v = co_await api.videos.get(*ctx.org, ctx.params.at("id"));
  response res = video_response(status::ok, v);
  res.set(http::field::cache_control, "no-store");
  co_return res;
}

// PATCH /api/videos/:id {title?, description?, visibility?}
asio::awaitable<response> update_video(video_api& api, context& ctx) {
  const auto& body = require_object(ctx.json_body());
  domain::videos::changes c;
  c.title = optional_text(body, "title", {.min_chars = 1, .max_chars = 200});
  c.description = optional_text(body, "description", {.min_chars = 0, .max_chars = 5000});
  if (auto text = optional_text(body, "visibility", {.min_chars = 1, .max_chars = 20}))
    c.visibility = visibility_field(text);
  if (!c.title && !c.description && !c.visibility)
    throw error(errc::bad_request, "Send \"title\", \"description\" or \"visibility\" to change.");
  auto v = co_await api.videos.update(*ctx.org, ctx.params.at("id"), c);
  co_return video_response(status::ok, v);
}

// POST /api/videos/:id/playback-url {expiresIn?: seconds}: a link that plays
// the video with no session until it expires.
asio::awaitable<response> make_playback_url(video_api& api, context& ctx) {
  std::int64_t seconds = 3600;
  if (ctx.req.body().size() > 0 || !ctx.header(http::field::content_type).empty()) {
    const auto& body = require_object(ctx.json_body());
    if (const auto* e = body.if_contains("expiresIn")) {
      if (!e->is_int64() || e->as_int64() < 60 || e->as_int64() > 7 * 24 * 3600)
        throw error(errc::bad_request,
                    "The field \"expiresIn\" must be a whole number of seconds from 60 to 604800 (7 days).");
      seconds = e->as_int64();
    }
  }
  const std::string& id = ctx.params.at("id");
  auto link = co_await api.videos.sign_link(*ctx.org, id, std::chrono::seconds(seconds));
  std::string query = "?token=" + link.token;
  std::string base = "/api/stream/" + id;
  json::object out{{"token", link.token},
                   {"expiresAt", to_iso8601(link.expires_at)},
                   {"url", base + "/video" + query},
                   {"hlsUrl", base + "/hls/master.m3u8" + query},
                   {"thumbnailUrl", base + "/thumbnail.jpg" + query},
                   {"storyboardUrl", base + "/storyboard.vtt" + query},
                   {"embedUrl", "/embed/" + id + query},
                   {"shareUrl", "/v/" + id + query}};
  co_return no_store(http::json_response(status::created, out));
}

// DELETE /api/videos/:id
asio::awaitable<response> delete_video(video_api& api, context& ctx) {
  co_await api.videos.remove(*ctx.org, ctx.params.at("id"));
  co_return http::empty_response(status::no_content);
}

// POST /api/videos/:id/reprocess
asio::awaitable<response> reprocess_video(video_api& api, context& ctx) {
  auto v = co_await api.videos.reprocess(*ctx.org, ctx.params.at("id"));
  co_return video_response(status::accepted, v);
}

}  // namespace

void add_video_routes(http::router& r, const guard& g, video_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  http::route_options streamed{.body_limit = api.max_upload_bytes, .stream_body = true};
  using http::verb;
  r.add(verb::post, "/api/videos", g.org(action::upload_video, h(upload_video)), streamed);
  r.add(verb::get, "/api/videos", g.org(action::view_videos, h(list_videos)));
  r.add(verb::get, "/api/videos/:id", g.org(action::view_videos, h(get_video)));
  r.add(verb::patch, "/api/videos/:id", g.org(action::edit_video, h(update_video)));
  r.add(verb::delete_, "/api/videos/:id", g.org(action::delete_video, h(delete_video)));
  r.add(verb::post, "/api/videos/:id/reprocess", g.org(action::edit_video, h(reprocess_video)));
  r.add(verb::post, "/api/videos/:id/playback-url", g.org(action::view_videos, h(make_playback_url)));
}

}  // namespace reel::api
