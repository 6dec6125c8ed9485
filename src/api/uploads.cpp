#include "api/uploads.hpp"

#include "api/handler.hpp"
#include "api/input.hpp"
#include "core/digest.hpp"
#include "core/log.hpp"
#include "model/json.hpp"
#include "storage/batch_writer.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <cstring>

namespace reel::api {

namespace {

constexpr std::string_view k_tus_extensions = "creation,creation-with-upload,termination,expiration,checksum";
constexpr std::string_view k_offset_type = "application/offset+octet-stream";
constexpr std::size_t k_max_metadata_bytes = 4096;
// While a long PATCH runs, the stored offset catches up at least this often,
// so that a crash loses at most this much of what was received.
constexpr std::uint64_t k_checkpoint_bytes = 64ULL << 20;
constexpr auto k_checkpoint_interval = std::chrono::seconds(2);

void require_tus(const context& ctx) {
  if (ctx.header("Tus-Resumable") != k_tus_version)
    throw error(errc::precondition_failed, "This endpoint speaks tus 1.0.0: send the header Tus-Resumable: 1.0.0.");
}

// A non-negative decimal header (Upload-Length, Upload-Offset); nullopt when absent.
std::optional<std::uint64_t> number_header(const context& ctx, std::string_view name) {
  return parse_upload_number(ctx.header(name), name);
}

bool is_offset_stream(const context& ctx) { return media_type(ctx.header(http::field::content_type)) == k_offset_type; }

// The raw SHA-1 digest an Upload-Checksum header announces, if any.
std::optional<std::string> expected_checksum(const context& ctx) {
  return parse_upload_checksum(ctx.header("Upload-Checksum"));
}

// The upload's file, opened for writing from `u.received` (bytes past it are
// from a request that never finished). error(not_found) when its video was deleted.
asio::awaitable<std::unique_ptr<storage::upload_file>> open_upload_file(upload_api& api, const model::upload& u) {
  auto path = api.files.original(u.organization_id, u.video_id);
  auto start = static_cast<std::uint64_t>(u.received);
  auto open_job = [&path, start] {
    auto f = std::make_unique<storage::upload_file>(path);
    f->truncate(start);
    return f;
  };
  std::unique_ptr<storage::upload_file> file;
  try {
    file = co_await api.pool.offload(open_job);
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::no_such_file_or_directory) throw;
  }
  if (!file) throw error(errc::not_found, "No such upload.");
  co_return file;
}

// One PATCH body on its way into an upload's file.
struct body_transfer {
  const model::upload& upload;
  storage::upload_file& file;
  storage::batch_writer& writer;
  bool hashing = false;
  // The offset last recorded in the database (the request's start unless a checkpoint moved it).
  std::uint64_t checkpointed = 0;
  std::chrono::steady_clock::time_point last_checkpoint = std::chrono::steady_clock::now();
};

// Writes what was handed over, fsyncs it and records the offset.
asio::awaitable<void> checkpoint(upload_api& api, body_transfer& t) {
  co_await t.writer.flush();
  auto sync_file = [f = &t.file] { f->sync(); };
  co_await api.pool.offload(sync_file);
  auto written = static_cast<std::int64_t>(t.writer.written());
  co_await api.uploads.record_offset(t.upload, written);
  t.checkpointed = t.writer.written();
  t.last_checkpoint = std::chrono::steady_clock::now();
}

// Reads the body into the writer; without a checksum to verify, the stored
// offset catches up every k_checkpoint_bytes or k_checkpoint_interval.
asio::awaitable<void> read_body(upload_api& api, context& ctx, body_transfer& t) {
  const auto length = static_cast<std::uint64_t>(t.upload.length);
  for (;;) {
    auto room = t.writer.room();  // the body is read straight into the batch
    std::size_t n = co_await ctx.body->read_some(room);
    if (n == 0) break;
    if (t.writer.written() + t.writer.buffered() + n > length)
      throw error(errc::payload_too_large,
                  "The chunk goes past the upload's length (" + std::to_string(length) + " bytes).");
    t.writer.commit(n);
    if (!co_await t.writer.write_if_full()) continue;
    bool due = t.writer.written() - t.checkpointed >= k_checkpoint_bytes ||
               std::chrono::steady_clock::now() - t.last_checkpoint >= k_checkpoint_interval;
    if (!t.hashing && due) co_await checkpoint(api, t);
  }
  co_await t.writer.flush();
}

// After the volume filled up (or reached the reserve): the bytes that reached
// the file stay, fsynced and recorded as the offset, so that a HEAD tells
// where to resume once there is room; what was still buffered goes.
asio::awaitable<void> keep_written(upload_api& api, body_transfer& t) {
  t.writer.drop_buffered();
  auto keep = [f = &t.file, from = t.checkpointed, to = t.writer.written()] {
    std::uint64_t end = std::clamp(f->size(), from, to);
    f->truncate(end);
    f->sync();
    return end;
  };
  std::uint64_t kept = co_await api.pool.offload(keep);
  if (kept != t.checkpointed) co_await api.uploads.record_offset(t.upload, static_cast<std::int64_t>(kept));
  t.checkpointed = kept;
  log::warn("upload stopped: out of storage", {{"upload", t.upload.id}, {"offset", kept}});
}

// After a body failed: a dropped connection keeps what arrived (as tus asks,
// so the client resumes after it), a full volume what was written
// (`keep_written`); anything else goes back to the last recorded offset.
asio::awaitable<void> settle_failed_body(upload_api& api, body_transfer& t, bool keep_partial,
                                         bool keep_written_bytes = false) {
  const std::string& id = t.upload.id;
  if (!co_await t.writer.settle()) {
    keep_partial = keep_written_bytes = false;
    log::warn("writing an upload failed", {{"upload", id}});
  }
  if (keep_written_bytes) {
    try {
      co_await keep_written(api, t);
      co_return;
    } catch (const std::exception& e) {
      log::warn("upload out of storage; written bytes not recorded", {{"upload", id}, {"error", e.what()}});
    }
  }
  if (keep_partial) {
    try {
      co_await checkpoint(api, t);
      log::info("upload interrupted", {{"upload", id}, {"offset", t.checkpointed}});
    } catch (const std::exception& e) {
      log::warn("upload interrupted; received bytes not recorded", {{"upload", id}, {"error", e.what()}});
    }
    co_return;
  }
  auto discard = [f = &t.file, at = t.checkpointed] { f->truncate(at); };
  try {
    co_await api.pool.offload(discard);
  } catch (const std::exception& e) {
    log::warn("discarding a chunk failed", {{"upload", id}, {"error", e.what()}});
  }
}

// Reads the request body into the upload's file from `u.received`. Returns
// the new offset once everything up to it is fsynced (the caller records
// it). A body that fails its checksum, runs past the upload's length or is
// malformed is discarded back to the last recorded offset.
asio::awaitable<std::int64_t> receive_bytes(upload_api& api, context& ctx, const model::upload& u) {
  auto checksum = expected_checksum(ctx);
  const auto start = static_cast<std::uint64_t>(u.received);
  const auto length = static_cast<std::uint64_t>(u.length);
  if (auto declared = ctx.body->content_length(); declared && *declared > length - start)
    throw error(errc::payload_too_large, "The chunk goes past the upload's length (" + std::to_string(length) +
                                             " bytes; " + std::to_string(start) + " stored).");
  auto file = co_await open_upload_file(api, u);
  std::optional<sha1> hasher;
  if (checksum) hasher.emplace();
  auto write = [f = file.get(), h = hasher ? &*hasher : nullptr, space = &api.files.space()](std::uint64_t at,
                                                                                             std::string_view bytes) {
    space->claim(bytes.size());  // error(insufficient_storage) rather than eat into the reserve
    f->write_at(at, bytes);
    if (h) h->update(bytes);
  };
  auto loop = co_await asio::this_coro::executor;
  storage::batch_writer writer(api.pool, loop, write, start);
  body_transfer t{u, *file, writer, hasher.has_value(), start};
  std::exception_ptr failure;
  bool keep_partial = false, out_of_storage = false;
  try {
    co_await read_body(api, ctx, t);
    if (hasher) {
      auto digest = hasher->finish();
      if (std::memcmp(digest.data(), checksum->data(), digest.size()) != 0)
        throw error(errc::checksum_mismatch,
                    "The chunk's SHA-1 does not match Upload-Checksum; it was discarded. Send it again.");
    }
    auto sync_file = [f = file.get()] { f->sync(); };
    co_await api.pool.offload(sync_file);
  } catch (const http::client_gone&) {
    failure = std::current_exception();
    keep_partial = !hasher;
  } catch (const std::exception& e) {
    failure = std::current_exception();
    out_of_storage = !hasher && errc_of(e) == errc::insufficient_storage;
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return static_cast<std::int64_t>(writer.written());
  co_await settle_failed_body(api, t, keep_partial, out_of_storage);
  std::rethrow_exception(failure);
}

// The headers every answer about an existing upload carries. `expires`:
// when it expires if no more bytes come (unfinished uploads only).
void set_upload_headers(response& res, const model::upload& u, std::int64_t received, sys_time expires) {
  res.set("Upload-Offset", std::to_string(received));
  res.set("X-Video-Id", u.video_id);
  if (received < u.length) res.set("Upload-Expires", to_http_date(expires));
  res.set(http::field::cache_control, "no-store");
}

response capabilities(std::string_view allow, std::uint64_t max_size) {
  response res = http::empty_response(status::no_content);
  res.set("Tus-Version", k_tus_version);
  res.set("Tus-Extension", k_tus_extensions);
  res.set("Tus-Max-Size", std::to_string(max_size));
  res.set("Tus-Checksum-Algorithm", "sha1");
  res.set(http::field::allow, allow);
  return res;
}

// A creation request's headers, checked: the new upload and whether bytes follow.
std::pair<domain::uploads::new_upload, bool> parse_creation(const upload_api& api, const context& ctx) {
  require_tus(ctx);
  if (!ctx.header("Upload-Defer-Length").empty())
    throw error(errc::bad_request, "Deferred lengths are not supported: send Upload-Length.");
  if (!ctx.header("Upload-Concat").empty())
    throw error(errc::bad_request, "Concatenation is not supported: upload the file as one upload.");
  auto length = number_header(ctx, "Upload-Length");
  if (!length) throw error(errc::bad_request, "The header Upload-Length is required.");
  if (*length == 0) throw error(errc::bad_request, "The file is empty.");
  if (*length > api.max_upload_bytes)
    throw error(errc::payload_too_large,
                "The file is larger than this server accepts (" + std::to_string(api.max_upload_bytes) + " bytes).");
  std::string_view metadata_text = ctx.header("Upload-Metadata");
  if (metadata_text.size() > k_max_metadata_bytes)
    throw error(errc::bad_request,
                "Upload-Metadata is longer than " + std::to_string(k_max_metadata_bytes) + " bytes.");
  auto metadata = parse_upload_metadata(metadata_text);
  if (!metadata)
    throw error(errc::bad_request,
                "Upload-Metadata must be comma-separated \"key base64value\" pairs with unique keys.");
  auto meta = [&](std::string_view key) -> std::optional<std::string> {
    for (const auto& [k, v] : *metadata)
      if (k == key) return v;
    return std::nullopt;
  };
  bool with_body = is_offset_stream(ctx);
  if (!with_body && !ctx.body->done())
    throw error(errc::unsupported_media_type,
                "A creation request's body must be Content-Type application/offset+octet-stream.");
  domain::uploads::new_upload n;
  n.length = static_cast<std::int64_t>(*length);
  n.metadata = std::string(metadata_text);
  n.video.original_filename = clean_filename(meta("filename").value_or(""));
  std::tie(n.video.title, n.video.description) =
      video_text_fields(meta("title"), meta("description"), n.video.original_filename);
  n.video.content_type = clean_media_type(meta("filetype").value_or(""));
  n.video.visibility = visibility_field(meta("visibility"));
  return {std::move(n), with_body};
}

// POST /api/uploads (creation, creation-with-upload).
asio::awaitable<response> create_upload(upload_api& api, context& ctx) {
  auto [n, with_body] = parse_creation(api, ctx);
  // An upload that cannot fit above the storage reserve is refused up front (507).
  auto room = [&space = api.files.space(), length = static_cast<std::uint64_t>(n.length)] { space.check(length); };
  co_await api.pool.offload(room);
  auto made = co_await api.uploads.create(*ctx.principal, *ctx.org, n);
  const model::upload& u = made.upload;
  std::int64_t received = 0;
  if (with_body) {
    std::function<void()> abort = [body = ctx.body] { body->abort(); };
    auto lock = co_await api.uploads.lock_for_writing(u.id, std::move(abort));
    received = co_await receive_bytes(api, ctx, u);
    if (auto done = co_await api.uploads.record_received(u, received)) made.video = std::move(*done);
  }
  response res = http::json_response(status::created, json::object{{"video", model::video_json(made.video)}});
  res.set(http::field::location, "/api/uploads/" + u.id);
  set_upload_headers(res, u, received, api.uploads.expiry_from_now());
  co_return res;
}

// HEAD /api/uploads/:id: where to resume.
asio::awaitable<response> upload_status(upload_api& api, context& ctx) {
  require_tus(ctx);
  auto u = co_await api.uploads.writable(*ctx.principal, named_org(ctx), ctx.params.at("id"));
  response res = http::empty_response(status::ok);
  set_upload_headers(res, u, u.received, api.uploads.expires_at(u));
  res.set("Upload-Length", std::to_string(u.length));
  if (!u.metadata.empty()) res.set("Upload-Metadata", u.metadata);
  co_return res;
}

// PATCH /api/uploads/:id: bytes at Upload-Offset.
asio::awaitable<response> append_bytes(upload_api& api, context& ctx) {
  require_tus(ctx);
  if (!is_offset_stream(ctx))
    throw error(errc::unsupported_media_type, "A PATCH body must be Content-Type application/offset+octet-stream.");
  auto offset = number_header(ctx, "Upload-Offset");
  if (!offset) throw error(errc::bad_request, "The header Upload-Offset is required.");
  expected_checksum(ctx);  // a malformed header is refused before anything else
  const std::string& id = ctx.params.at("id");
  // Authorized before anything else: a stranger learns nothing from 423.
  co_await api.uploads.writable(*ctx.principal, named_org(ctx), id);
  std::function<void()> abort = [body = ctx.body] { body->abort(); };
  auto lock = co_await api.uploads.lock_for_writing(id, std::move(abort));
  auto u = co_await api.uploads.writable(*ctx.principal, named_org(ctx), id);  // as it is now that no one else writes
  if (*offset != static_cast<std::uint64_t>(u.received))
    throw error(errc::conflict, "Upload-Offset is " + std::to_string(*offset) + " but the server has " +
                                    std::to_string(u.received) + " bytes of this upload; resume from there.");
  std::int64_t received = u.received;
  if (u.completed_at) {
    if (!ctx.body->done() && ctx.body->content_length() != std::uint64_t(0))
      throw error(errc::payload_too_large, "This upload is complete; it takes no more bytes.");
  } else {
    received = co_await receive_bytes(api, ctx, u);
    if (received != u.received) co_await api.uploads.record_received(u, received);
  }
  response res = http::empty_response(status::no_content);
  sys_time expires = received != u.received ? api.uploads.expiry_from_now()  // new bytes push the expiry back
                                            : api.uploads.expires_at(u);
  set_upload_headers(res, u, received, expires);
  co_return res;
}

// DELETE /api/uploads/:id (termination): an unfinished upload goes with its
// video and file; a finished one only forgets the upload (the video stays).
asio::awaitable<response> terminate_upload(upload_api& api, context& ctx) {
  require_tus(ctx);
  const std::string& id = ctx.params.at("id");
  // Authorized before a writer is stopped: a stranger cannot abort anyone's upload.
  co_await api.uploads.writable(*ctx.principal, named_org(ctx), id, /*allow_expired=*/true);
  co_await api.uploads.stop_writer(id);
  auto lock = co_await api.uploads.lock_for_writing(id);
  auto u = co_await api.uploads.writable(*ctx.principal, named_org(ctx), id, /*allow_expired=*/true);
  co_await api.uploads.terminate(u);
  co_return http::empty_response(status::no_content);
}

// POST /api/uploads/:id with X-HTTP-Method-Override: clients behind proxies
// that drop PATCH or DELETE send POST.
asio::awaitable<response> method_override(upload_api& api, context& ctx) {
  std::string_view method = ctx.header("X-HTTP-Method-Override");
  if (method == "PATCH") co_return co_await append_bytes(api, ctx);
  if (method == "DELETE") co_return co_await terminate_upload(api, ctx);
  if (method == "HEAD") co_return co_await upload_status(api, ctx);
  throw error(errc::method_not_allowed, "POST on an upload needs X-HTTP-Method-Override: PATCH, DELETE or HEAD.");
}

}  // namespace

std::chrono::milliseconds upload_sweep_interval(std::chrono::seconds expiry) {
  auto half = std::chrono::duration_cast<std::chrono::milliseconds>(expiry) / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::milliseconds(250), std::chrono::minutes(1));
}

void add_upload_routes(http::router& r, const guard& g, upload_api& api) {
  auto h = [&api](auto fn) { return http::bind_handler(api, fn); };
  std::uint64_t max = api.max_upload_bytes;
  auto collection_options = [max](context&) -> asio::awaitable<response> {
    co_return capabilities("OPTIONS, POST", max);
  };
  auto upload_options = [max](context&) -> asio::awaitable<response> {
    co_return capabilities("OPTIONS, HEAD, PATCH, DELETE, POST", max);
  };
  http::route_options streamed{.body_limit = max, .stream_body = true};
  using domain::action;
  using http::verb;
  r.add(verb::options, "/api/uploads", collection_options);
  r.add(verb::options, "/api/uploads/:id", upload_options);
  r.add(verb::post, "/api/uploads", g.org(action::upload_video, h(create_upload)), streamed);
  r.add(verb::head, "/api/uploads/:id", g.user(h(upload_status)));
  r.add(verb::patch, "/api/uploads/:id", g.user(h(append_bytes)), streamed);
  r.add(verb::delete_, "/api/uploads/:id", g.user(h(terminate_upload)));
  r.add(verb::post, "/api/uploads/:id", g.user(h(method_override)), streamed);
}

}  // namespace reel::api
