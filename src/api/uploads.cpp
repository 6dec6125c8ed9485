#include "api/uploads.hpp"

#include "api/videos.hpp"
#include "core/digest.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "db/jobs.hpp"
#include "db/uploads.hpp"
#include "db/videos.hpp"
#include "model/json.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <cstring>

namespace reel::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::context;
using http::response;
using http::status;

namespace {

constexpr std::string_view k_tus_version = "1.0.0";
constexpr std::string_view k_tus_extensions = "creation,creation-with-upload,termination,expiration,checksum";
constexpr std::string_view k_offset_type = "application/offset+octet-stream";
constexpr std::size_t k_read_chunk = 64 * 1024;
constexpr std::size_t k_write_batch = 1 << 20;
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
  std::string_view text = ctx.header(name);
  if (text.empty()) return std::nullopt;
  std::uint64_t v = 0;
  if (text.size() > 15 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw error(errc::bad_request, "The header " + std::string(name) + " must be a number of bytes.");
  for (char c : text) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

bool is_offset_stream(const context& ctx) {
  std::string_view type = ctx.header(http::field::content_type);
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type.size() == k_offset_type.size() &&
         std::equal(type.begin(), type.end(), k_offset_type.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// The raw SHA-1 digest an Upload-Checksum header announces, if any.
std::optional<std::string> expected_checksum(const context& ctx) {
  std::string_view text = ctx.header("Upload-Checksum");
  if (text.empty()) return std::nullopt;
  auto space = text.find(' ');
  if (space == std::string_view::npos)
    throw error(errc::bad_request, "Upload-Checksum must be \"<algorithm> <base64 digest>\".");
  std::string algorithm(text.substr(0, space));
  std::transform(algorithm.begin(), algorithm.end(), algorithm.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (algorithm != "sha1")
    throw error(errc::bad_request, "The checksum algorithm is not supported; this server supports sha1.");
  auto digest = base64_decode(text.substr(space + 1));
  if (!digest || digest->size() != 20)
    throw error(errc::bad_request, "Upload-Checksum's digest is not a base64 SHA-1 digest.");
  return digest;
}

// Marks an upload busy for the life of this object; 423 if it already is.
class upload_lock {
 public:
  using table = std::unordered_map<std::string, http::body_reader*>;
  upload_lock(table& busy, const std::string& id, http::body_reader* body = nullptr) : busy_(busy), id_(id) {
    if (!busy_.emplace(id_, body).second)
      throw error(errc::locked, "Another request is writing to this upload; try again in a moment.");
  }
  ~upload_lock() { busy_.erase(id_); }
  upload_lock(const upload_lock&) = delete;
  upload_lock& operator=(const upload_lock&) = delete;

 private:
  table& busy_;
  std::string id_;
};

// A termination does not wait for a PATCH in progress to end by itself (a
// client that aborts its upload and terminates it may still be seen sending):
// it stops that PATCH, which keeps what arrived, and waits a moment for it.
asio::awaitable<void> stop_writer(upload_services& s, const std::string& id) {
  auto it = s.busy.find(id);
  if (it == s.busy.end()) co_return;
  if (it->second) it->second->abort();
  auto loop = co_await asio::this_coro::executor;
  asio::steady_timer tick(loop);
  for (int i = 0; i < 120 && s.busy.count(id); ++i) {
    tick.expires_after(std::chrono::milliseconds(25));
    co_await tick.async_wait(asio::use_awaitable);
  }
}

// The upload `id` if the caller may write to it: 404 for an unknown id or
// another organization's upload (and when X-Organization-Id names another
// organization), 403 below the member role, 410 once an unfinished upload
// has expired (unless `allow_expired`).
asio::awaitable<model::upload> find_writable(upload_services& s, const context& ctx, const std::string& id,
                                             bool allow_expired = false) {
  if (!storage::is_valid_id(id)) throw error(errc::not_found, "No such upload.");
  auto u = co_await s.db.read([&](db::transaction& st) { return db::find_upload(st, id); });
  if (!u) throw error(errc::not_found, "No such upload.");
  const model::membership* m = resource_membership(ctx, u->organization_id);
  if (!m) throw error(errc::not_found, "No such upload.");
  if (!model::at_least(m->role, model::role::member))
    throw error(errc::forbidden, "Your role in this organization does not allow uploading; it needs member or higher.");
  if (!allow_expired && !u->completed_at && u->expires_at < to_iso8601(s.time.now()))
    throw error(errc::gone, "This upload expired and was discarded; start a new one.");
  co_return std::move(*u);
}

// Reads the request body into the upload's file from `u.received`, batching
// writes on the pool. Returns the new offset once everything up to it is
// fsynced (the caller records it). On the way, the stored offset catches up
// every k_checkpoint_bytes or k_checkpoint_interval. When the client goes
// away, what arrived is kept and recorded; a body that fails its checksum,
// runs past the upload's length or is malformed is discarded back to the last
// recorded offset.
asio::awaitable<std::int64_t> receive_bytes(upload_services& s, context& ctx, const model::upload& u) {
  auto checksum = expected_checksum(ctx);
  const auto start = static_cast<std::uint64_t>(u.received);
  const auto length = static_cast<std::uint64_t>(u.length);
  if (auto declared = ctx.body->content_length(); declared && *declared > length - start)
    throw error(errc::payload_too_large, "The chunk goes past the upload's length (" + std::to_string(length) +
                                             " bytes; " + std::to_string(start) + " stored).");

  auto path = s.files.original(u.organization_id, u.video_id);
  auto open_job = [&path, start] {
    auto f = std::make_unique<storage::upload_file>(path);
    f->truncate(start);  // bytes past the acknowledged offset are from a request that never finished
    return f;
  };
  std::unique_ptr<storage::upload_file> file;
  try {
    file = co_await s.pool.offload(open_job);
  } catch (const std::system_error& e) {
    if (e.code() != std::errc::no_such_file_or_directory) throw;
  }
  if (!file) throw error(errc::not_found, "No such upload.");  // its video was deleted

  std::optional<sha1> hasher;
  if (checksum) hasher.emplace();
  // Bytes handed to the writer (written, or being written), and the offset last recorded.
  std::uint64_t written = start, checkpointed = start;
  auto last_checkpoint = std::chrono::steady_clock::now();
  std::string batch;
  batch.reserve(k_write_batch + k_read_chunk);
  // Batches are written on the pool while the next one is read from the socket.
  auto loop = co_await asio::this_coro::executor;
  background_job writer(s.pool, loop);
  auto hand_over = [&] {
    std::size_t n = batch.size();
    writer.start([f = file.get(), h = hasher ? &*hasher : nullptr, at = written, bytes = std::move(batch)] {
      f->write_at(at, bytes);
      if (h) h->update(bytes);
    });
    written += n;
    batch = std::string();
    batch.reserve(k_write_batch + k_read_chunk);
  };
  auto write_rest = [&] { file->write_at(written, batch); };
  auto sync_file = [&file] { file->sync(); };
  const std::string& id = u.id;
  std::string now, expires;
  auto record = [&](db::transaction& st) {
    return db::set_upload_received(st, id, static_cast<std::int64_t>(written), now, expires);
  };

  std::exception_ptr failure;
  bool keep_partial = false;  // on failure: record what arrived (true) or discard the whole body
  try {
    std::vector<char> chunk(k_read_chunk);
    for (;;) {
      std::size_t n = co_await ctx.body->read_some(asio::buffer(chunk));
      if (n == 0) break;
      if (written + batch.size() + n > length)
        throw error(errc::payload_too_large,
                    "The chunk goes past the upload's length (" + std::to_string(length) + " bytes).");
      batch.append(chunk.data(), n);
      if (batch.size() < k_write_batch) continue;
      co_await writer.wait();
      hand_over();
      bool due = written - checkpointed >= k_checkpoint_bytes ||
                 std::chrono::steady_clock::now() - last_checkpoint >= k_checkpoint_interval;
      if (!hasher && due) {
        co_await writer.wait();
        co_await s.pool.offload(sync_file);
        now = to_iso8601(s.time.now());
        expires = to_iso8601(s.time.now() + s.expiry);
        if (!co_await s.db.write(record)) throw error(errc::not_found, "No such upload.");
        checkpointed = written;
        last_checkpoint = std::chrono::steady_clock::now();
      }
    }
    co_await writer.wait();
    if (!batch.empty()) {
      hand_over();
      co_await writer.wait();
    }
    if (hasher) {
      auto digest = hasher->finish();
      if (std::memcmp(digest.data(), checksum->data(), digest.size()) != 0)
        throw error(errc::checksum_mismatch,
                    "The chunk's SHA-1 does not match Upload-Checksum; it was discarded. Send it again.");
    }
    co_await s.pool.offload(sync_file);
  } catch (const http::client_gone&) {
    failure = std::current_exception();
    keep_partial = !hasher;
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return static_cast<std::int64_t>(written);

  // The write in flight, if any, ends before anything else touches the file.
  try {
    co_await writer.wait();
  } catch (const std::exception& e) {
    keep_partial = false;
    log::warn("writing an upload failed", {{"upload", id}, {"error", e.what()}});
  }
  if (keep_partial) {
    // The connection dropped: keep what arrived, as tus asks, so the client resumes after it.
    try {
      if (!batch.empty()) {
        co_await s.pool.offload(write_rest);
        written += batch.size();
      }
      co_await s.pool.offload(sync_file);
      now = to_iso8601(s.time.now());
      expires = to_iso8601(s.time.now() + s.expiry);
      co_await s.db.write(record);
      log::info("upload interrupted", {{"upload", id}, {"offset", written}});
    } catch (const std::exception& e) {
      log::warn("upload interrupted; received bytes not recorded", {{"upload", id}, {"error", e.what()}});
    }
  } else {
    // Back to the last recorded offset (the request's start unless a checkpoint moved it).
    auto discard = [&file, checkpointed] { file->truncate(checkpointed); };
    try {
      co_await s.pool.offload(discard);
    } catch (const std::exception& e) {
      log::warn("discarding a chunk failed", {{"upload", id}, {"error", e.what()}});
    }
  }
  std::rethrow_exception(failure);
}

// Records the offset `received` reached by a request. The last byte
// completes the upload: the video becomes `queued` with its processing job,
// in one transaction. Returns the video when that happened.
asio::awaitable<std::optional<model::video>> record_received(upload_services& s, const model::upload& u,
                                                             std::int64_t received) {
  std::string now = to_iso8601(s.time.now());
  std::string expires = to_iso8601(s.time.now() + s.expiry);
  if (received < u.length) {
    auto record = [&](db::transaction& st) { return db::set_upload_received(st, u.id, received, now, expires); };
    if (!co_await s.db.write(record)) throw error(errc::not_found, "No such upload.");
    co_return std::nullopt;
  }
  model::job j;
  j.id = ids::random_id(12);
  j.kind = "process_video";
  j.organization_id = u.organization_id;
  j.video_id = u.video_id;
  j.max_attempts = s.max_job_attempts;
  j.run_after = j.created_at = j.updated_at = now;
  auto complete = [&](db::transaction& st) -> std::optional<model::video> {
    auto v = db::find_video(st, u.organization_id, u.video_id);
    if (!v || !db::find_upload(st, u.id)) return std::nullopt;
    db::complete_upload(st, u.id, now, expires);
    db::set_video_status(st, u.video_id, model::video_status::queued, std::nullopt, now);
    db::insert_job(st, j);
    return db::find_video(st, u.organization_id, u.video_id);
  };
  auto v = co_await s.db.write(complete);
  if (!v) throw error(errc::not_found, "No such upload.");
  log::info("video uploaded", {{"video", v->id}, {"org", v->organization_id}, {"bytes", v->size_bytes}});
  s.hub.publish(event{v->organization_id, "video:updated", json::object{{"video", model::video_json(*v)}}});
  s.processor.notify();
  co_return v;
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

// POST /api/uploads (creation, creation-with-upload).
asio::awaitable<response> create_upload(upload_services& s, context& ctx) {
  require_tus(ctx);
  if (!ctx.header("Upload-Defer-Length").empty())
    throw error(errc::bad_request, "Deferred lengths are not supported: send Upload-Length.");
  if (!ctx.header("Upload-Concat").empty())
    throw error(errc::bad_request, "Concatenation is not supported: upload the file as one upload.");
  auto length = number_header(ctx, "Upload-Length");
  if (!length) throw error(errc::bad_request, "The header Upload-Length is required.");
  if (*length == 0) throw error(errc::bad_request, "The file is empty.");
  if (*length > s.max_upload_bytes)
    throw error(errc::payload_too_large,
                "The file is larger than this server accepts (" + std::to_string(s.max_upload_bytes) + " bytes).");
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

  std::string filename = clean_filename(meta("filename").value_or(""));
  auto [title, description] = video_text_fields(meta("title"), meta("description"), filename);
  std::string now = to_iso8601(s.time.now());
  model::video v;
  v.id = ids::random_id(12);
  v.organization_id = ctx.org->id;
  v.title = title;
  v.description = description;
  v.status = model::video_status::uploading;
  v.original_filename = filename;
  v.content_type = clean_media_type(meta("filetype").value_or(""));
  v.size_bytes = static_cast<std::int64_t>(*length);
  v.created_by = ctx.principal->user.id;
  v.created_at = v.updated_at = now;
  model::upload u;
  u.id = ids::random_id(18);
  u.organization_id = v.organization_id;
  u.video_id = v.id;
  u.created_by = v.created_by;
  u.length = v.size_bytes;
  u.metadata = std::string(metadata_text);
  u.created_at = u.updated_at = now;
  u.expires_at = to_iso8601(s.time.now() + s.expiry);

  auto path = s.files.original(v.organization_id, v.id);
  auto create_file = [&path] { storage::upload_file::create(path); };
  co_await s.pool.offload(create_file);
  std::exception_ptr failure;
  try {
    co_await s.db.write([&](db::transaction& st) {
      db::insert_video(st, v);
      db::insert_upload(st, u);
    });
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    auto dir = s.files.video_dir(v.organization_id, v.id);
    auto remove_job = [&dir] { storage::remove_tree(dir); };
    co_await s.pool.offload(remove_job);
    std::rethrow_exception(failure);
  }
  log::info("upload created", {{"upload", u.id}, {"video", v.id}, {"length", u.length}});
  s.hub.publish(event{v.organization_id, "video:created", json::object{{"video", model::video_json(v)}}});

  std::int64_t received = 0;
  if (with_body) {
    upload_lock lock(s.busy, u.id, ctx.body);
    received = co_await receive_bytes(s, ctx, u);
    if (auto done = co_await record_received(s, u, received)) v = std::move(*done);
  }
  response res = http::json_response(status::created, json::object{{"video", model::video_json(v)}});
  res.set(http::field::location, "/api/uploads/" + u.id);
  set_upload_headers(res, u, received, s.time.now() + s.expiry);
  co_return res;
}

// HEAD /api/uploads/:id: where to resume.
asio::awaitable<response> upload_status(upload_services& s, context& ctx) {
  require_tus(ctx);
  const std::string& id = ctx.params.at("id");
  auto u = co_await find_writable(s, ctx, id);
  response res = http::empty_response(status::ok);
  set_upload_headers(res, u, u.received, from_iso8601(u.expires_at).value_or(s.time.now()));
  res.set("Upload-Length", std::to_string(u.length));
  if (!u.metadata.empty()) res.set("Upload-Metadata", u.metadata);
  co_return res;
}

// PATCH /api/uploads/:id: bytes at Upload-Offset.
asio::awaitable<response> append_bytes(upload_services& s, context& ctx) {
  require_tus(ctx);
  if (!is_offset_stream(ctx))
    throw error(errc::unsupported_media_type, "A PATCH body must be Content-Type application/offset+octet-stream.");
  auto offset = number_header(ctx, "Upload-Offset");
  if (!offset) throw error(errc::bad_request, "The header Upload-Offset is required.");
  expected_checksum(ctx);  // a malformed header is refused before anything else
  const std::string& id = ctx.params.at("id");
  // Authorized before anything else: a stranger learns nothing from 423.
  co_await find_writable(s, ctx, id);
  upload_lock lock(s.busy, id, ctx.body);
  auto u = co_await find_writable(s, ctx, id);  // as it is now that no one else writes
  if (*offset != static_cast<std::uint64_t>(u.received))
    throw error(errc::conflict, "Upload-Offset is " + std::to_string(*offset) + " but the server has " +
                                    std::to_string(u.received) + " bytes of this upload; resume from there.");
  std::int64_t received = u.received;
  if (u.completed_at) {
    if (!ctx.body->done() && ctx.body->content_length() != std::uint64_t(0))
      throw error(errc::payload_too_large, "This upload is complete; it takes no more bytes.");
  } else {
    received = co_await receive_bytes(s, ctx, u);
    if (received != u.received) co_await record_received(s, u, received);
  }
  response res = http::empty_response(status::no_content);
  sys_time expires = received != u.received ? s.time.now() + s.expiry  // new bytes push the expiry back
                                            : from_iso8601(u.expires_at).value_or(s.time.now());
  set_upload_headers(res, u, received, expires);
  co_return res;
}

// DELETE /api/uploads/:id (termination): an unfinished upload goes with its
// video and file; a finished one only forgets the upload (the video stays).
asio::awaitable<response> terminate_upload(upload_services& s, context& ctx) {
  require_tus(ctx);
  const std::string& id = ctx.params.at("id");
  // Authorized before a writer is stopped: a stranger cannot abort anyone's upload.
  co_await find_writable(s, ctx, id, /*allow_expired=*/true);
  co_await stop_writer(s, id);
  upload_lock lock(s.busy, id);
  auto u = co_await find_writable(s, ctx, id, /*allow_expired=*/true);
  bool finished = u.completed_at.has_value();
  co_await s.db.write([&](db::transaction& st) {
    if (finished)
      db::delete_upload(st, u.id);
    else
      db::delete_video(st, u.organization_id, u.video_id);  // the upload goes with it
  });
  if (!finished) {
    auto dir = s.files.video_dir(u.organization_id, u.video_id);
    auto remove_job = [&dir] { return storage::remove_tree(dir); };
    if (!co_await s.pool.offload(remove_job)) log::warn("upload files not fully removed", {{"upload", u.id}});
    s.hub.publish(event{u.organization_id, "video:deleted", json::object{{"id", u.video_id}}});
  }
  log::info("upload terminated", {{"upload", u.id}, {"finished", finished}});
  co_return http::empty_response(status::no_content);
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_upload_metadata(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  if (header.empty()) return out;
  std::size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    std::string_view item =
        header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto space = item.find(' ');
    std::string_view key = item.substr(0, space);
    std::string_view value = space == std::string_view::npos ? std::string_view() : item.substr(space + 1);
    if (key.empty() || value.find(' ') != std::string_view::npos) return std::nullopt;
    for (const auto& [k, v] : out)
      if (k == key) return std::nullopt;
    auto decoded = base64_decode(value);
    if (!decoded) return std::nullopt;
    out.emplace_back(std::string(key), std::move(*decoded));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::chrono::milliseconds upload_sweep_interval(std::chrono::seconds expiry) {
  auto half = std::chrono::duration_cast<std::chrono::milliseconds>(expiry) / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::milliseconds(250), std::chrono::minutes(1));
}

http::middleware tus_headers() {
  return [](context& ctx, const http::handler& next) -> asio::awaitable<response> {
    response res = co_await next(ctx);
    if (ctx.route.starts_with("/api/uploads")) {
      res.set("Tus-Resumable", k_tus_version);
      if (res.result() == status::precondition_failed) res.set("Tus-Version", k_tus_version);
    }
    co_return res;
  };
}

asio::awaitable<std::size_t> remove_expired_uploads(upload_services& s) {
  std::string now = to_iso8601(s.time.now());
  auto expired = co_await s.db.read([&](db::transaction& st) { return db::expired_uploads(st, now, 100); });
  // Uploads a request is writing are left for the next sweep; the others are
  // held busy meanwhile, so that no request starts on them.
  std::vector<model::upload> taken;
  for (auto& u : expired)
    if (s.busy.emplace(u.id, nullptr).second) taken.push_back(std::move(u));
  std::size_t removed = 0;
  try {
    co_await s.db.write([&](db::transaction& st) {
      for (const auto& u : taken) {
        if (u.completed_at)
          db::delete_upload(st, u.id);
        else
          db::delete_video(st, u.organization_id, u.video_id);
      }
    });
    for (const auto& u : taken) {
      ++removed;
      if (u.completed_at) continue;
      auto dir = s.files.video_dir(u.organization_id, u.video_id);
      auto remove_job = [&dir] { return storage::remove_tree(dir); };
      if (!co_await s.pool.offload(remove_job)) log::warn("upload files not fully removed", {{"upload", u.id}});
      s.hub.publish(event{u.organization_id, "video:deleted", json::object{{"id", u.video_id}}});
      log::info("upload expired", {{"upload", u.id}, {"video", u.video_id}, {"received", u.received}});
    }
  } catch (...) {
    for (const auto& u : taken) s.busy.erase(u.id);
    throw;
  }
  for (const auto& u : taken) s.busy.erase(u.id);
  co_return removed;
}

void add_upload_routes(http::router& r, const guard& g, upload_services& svc) {
  upload_services* s = &svc;
  http::route_options streamed{.body_limit = svc.max_upload_bytes, .stream_body = true};

  r.add(http::verb::options, "/api/uploads",
        [s](context&) -> asio::awaitable<response> { co_return capabilities("OPTIONS, POST", s->max_upload_bytes); });
  r.add(http::verb::options, "/api/uploads/:id", [s](context&) -> asio::awaitable<response> {
    co_return capabilities("OPTIONS, HEAD, PATCH, DELETE, POST", s->max_upload_bytes);
  });
  r.add(http::verb::post, "/api/uploads",
        g.org(model::role::member, [s](context& ctx) { return create_upload(*s, ctx); }), streamed);
  r.add(http::verb::head, "/api/uploads/:id", g.user([s](context& ctx) { return upload_status(*s, ctx); }));
  r.add(http::verb::patch, "/api/uploads/:id", g.user([s](context& ctx) { return append_bytes(*s, ctx); }), streamed);
  r.add(http::verb::delete_, "/api/uploads/:id", g.user([s](context& ctx) { return terminate_upload(*s, ctx); }));
  // X-HTTP-Method-Override: clients behind proxies that drop PATCH or DELETE send POST.
  r.add(http::verb::post, "/api/uploads/:id", g.user([s](context& ctx) -> asio::awaitable<response> {
    std::string_view method = ctx.header("X-HTTP-Method-Override");
    if (method == "PATCH") co_return co_await append_bytes(*s, ctx);
    if (method == "DELETE") co_return co_await terminate_upload(*s, ctx);
    if (method == "HEAD") co_return co_await upload_status(*s, ctx);
    throw error(errc::method_not_allowed, "POST on an upload needs X-HTTP-Method-Override: PATCH, DELETE or HEAD.");
  }),
        streamed);
}

}  // namespace reel::api
