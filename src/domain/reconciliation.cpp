#include "domain/reconciliation.hpp"

#include "core/log.hpp"
#include "db/database.hpp"
#include "db/jobs.hpp"
#include "db/uploads.hpp"
#include "db/videos.hpp"
#include "domain/processing.hpp"
#include "jobs/processor.hpp"
#include "media/storyboard.hpp"
#include "model/events.hpp"
#include "storage/blobs.hpp"

#include <algorithm>
#include <unordered_map>

namespace reel::domain {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr int k_page = 500;
constexpr std::string_view k_work_prefix = "work-";

// A video directory as the scan found it. `settled`: untouched for the
// grace period (no creation can be in flight in it).
struct video_dir {
  std::string org, id;
  bool settled = false;
  std::vector<std::string> settled_work;  // job ids of its work-<job> directories untouched as long
};

struct storage_scan {
  bool has_orgs = false;  // false: an empty (perhaps unmounted) storage directory
  std::vector<video_dir> dirs;
};

struct row_problem {
  model::video seen;
  bool original_missing = false;
  bool outputs_missing = false;  // ready videos only
};

bool untouched_since(const fs::path& p, fs::file_time_type before) {
  std::error_code ec;
  auto written = fs::last_write_time(p, ec);
  return !ec && written <= before;
}

// Missing for sure (not an error that says nothing, e.g. EIO or EACCES).
bool missing(const fs::path& p) {
  std::error_code ec;
  return !fs::exists(p, ec) && !ec;
}

// Blocking (pool). The entries of `dir` (none when it cannot be read).
std::vector<fs::path> entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
  return out;
}

// Blocking (pool). Every orgs/<org>/videos/<video> directory. Listed
// before the rows are read: a directory whose row is committed after the
// read was made just before the listing, so it is younger than the grace
// period and stays.
storage_scan scan_storage(const fs::path& root, std::chrono::seconds grace) {
  storage_scan out;
  auto before = fs::file_time_type::clock::now() - grace;
  std::error_code ec;
  out.has_orgs = fs::is_directory(root / "orgs", ec);
  for (const auto& org : entries(root / "orgs")) {
    std::string org_id = org.filename().string();
    if (!storage::is_valid_id(org_id)) continue;
    for (const auto& dir : entries(org / "videos")) {
      video_dir d{org_id, dir.filename().string()};
      if (!storage::is_valid_id(d.id) || !fs::is_directory(dir, ec)) continue;
      d.settled = untouched_since(dir, before);
      for (const auto& w : entries(dir)) {
        std::string name = w.filename().string();
        if (!name.starts_with(k_work_prefix)) continue;
        std::string job = name.substr(k_work_prefix.size());
        if (storage::is_valid_id(job) && untouched_since(w, before)) d.settled_work.push_back(job);
      }
      out.dirs.push_back(std::move(d));
    }
  }
  return out;
}

// Whether a video's storyboard is there in part: its directory without its
// WebVTT or its first sheet. A video processed before storyboards has no
// directory at all: that is not missing outputs (it would reprocess every
// such video at once); it gets one when reprocessed.
bool storyboard_broken(const fs::path& video_dir) {
  auto dir = video_dir / media::k_storyboard_dir;
  if (missing(dir)) return false;
  return missing(dir / media::k_storyboard_vtt) || missing(dir / media::sprite_name(1));
}

// Blocking (pool). The rows whose files are gone: an original for any
// video not failed; the outputs of a ready one.
std::vector<row_problem> check_rows(const storage::layout& files, const std::vector<model::video>& rows) {
  std::vector<row_problem> out;
  for (const auto& v : rows) {
    if (v.status == model::video_status::failed) continue;
    auto dir = files.video_dir(v.organization_id, v.id);
    row_problem p{v, missing(dir / "original"), false};
    if (v.status == model::video_status::ready)
      p.outputs_missing = missing(dir / "video.mp4") || missing(dir / "hls" / "master.m3u8") || storyboard_broken(dir);
    bool broken = v.status == model::video_status::ready ? p.outputs_missing : p.original_missing;
    if (broken) out.push_back(std::move(p));
  }
  return out;
}

// Log fields stay short: the first ids, then "...".
std::string some_ids(const std::vector<std::string>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < 50; ++i) out += (i ? "," : "") + ids[i];
  if (ids.size() > 50) out += ",...";
  return out;
}

}  // namespace

asio::awaitable<reconcile_report> reconciler::run() {
  reconcile_report out;
  if (running_) co_return out;
  running_ = true;
  std::exception_ptr failure;
  try {
    co_await sweep(out);
  } catch (...) {
    failure = std::current_exception();
  }
  running_ = false;
  if (failure) std::rethrow_exception(failure);
  log::info("reconciliation done", {{"orphan_dirs_removed", out.orphans_removed.size()},
                                    {"videos_failed_missing_file", out.failed_missing.size()},
                                    {"videos_reprocessed_missing_outputs", out.requeued.size()},
                                    {"work_dirs_removed", out.work_dirs_removed.size()},
                                    {"scratch_dirs_removed", out.scratch_removed.size()},
                                    {"refused", out.refused},
                                    {"orphans", some_ids(out.orphans_removed)},
                                    {"failed", some_ids(out.failed_missing)},
                                    {"reprocessed", some_ids(out.requeued)}});
  co_return out;
}

asio::awaitable<void> reconciler::sweep(reconcile_report& out) {
  const fs::path root = c_.files.root();
  const auto grace = grace_;
  auto scan_job = [&root, grace] { return scan_storage(root, grace); };
  storage_scan found = co_await c_.pool.offload(scan_job);

  // The rows, read after the listing, page by page.
  std::vector<model::video> rows;
  std::string after;
  for (;;) {
    auto page = co_await c_.db.read([&](db::transaction& tx) { return db::videos_after(tx, after, k_page); });
    bool last = page.size() < static_cast<std::size_t>(k_page);
    if (!page.empty()) after = page.back().id;
    for (auto& v : page) rows.push_back(std::move(v));
    if (last) break;
  }
  std::unordered_map<std::string, const model::video*> by_id;
  for (const auto& v : rows) by_id.emplace(v.id, &v);

  // Directories without a row, and work directories of jobs that ended.
  std::vector<fs::path> doomed;
  std::vector<std::pair<fs::path, std::string>> work;  // path, job id
  for (const auto& d : found.dirs) {
    auto it = by_id.find(d.id);
    bool has_row = it != by_id.end() && it->second->organization_id == d.org;
    auto dir = c_.files.video_dir(d.org, d.id);
    if (!has_row && d.settled) {
      doomed.push_back(dir);
      out.orphans_removed.push_back(d.id);
    } else if (has_row) {
      for (const auto& job : d.settled_work) work.emplace_back(dir / (std::string(k_work_prefix) + job), job);
    }
  }
  if (!work.empty()) {
    auto ended = co_await c_.db.read([&](db::transaction& tx) {
      std::vector<std::string> ids;
      for (const auto& [path, job] : work) {
        auto j = db::find_job(tx, job);
        if (!j || (j->state != model::job_state::queued && j->state != model::job_state::running)) ids.push_back(job);
      }
      return ids;
    });
    for (const auto& [path, job] : work)
      if (std::find(ended.begin(), ended.end(), job) != ended.end()) {
        doomed.push_back(path);
        out.work_dirs_removed.push_back(job);
      }
  }
  const storage::layout& files = c_.files;
  auto remove_job = [&doomed, &files, grace] {
    for (const auto& p : doomed) storage::remove_tree(p);
    return files.remove_abandoned_scratch(grace).removed;
  };
  out.scratch_removed = co_await c_.pool.offload(remove_job);
  for (const auto& id : out.orphans_removed) log::info("video directory without a row removed", {{"video", id}});

  // Rows whose files are gone.
  auto check_job = [&files, &rows] { return check_rows(files, rows); };
  auto problems = co_await c_.pool.offload(check_job);
  std::size_t originals_missing = 0;
  for (const auto& p : problems) originals_missing += p.original_missing;
  std::size_t checked = rows.size();
  if (originals_missing > 0 && (!found.has_orgs || (checked >= 10 && originals_missing * 2 > checked))) {
    log::error(
        "reconciliation: most uploaded files are missing; is the storage directory mounted? No video was "
        "changed",
        {{"missing", originals_missing}, {"videos", checked}, {"storage_dir", root.string()}});
    out.refused = true;
    co_return;
  }
  for (const auto& p : problems) {
    bool reprocess = p.seen.status == model::video_status::ready && !p.original_missing;
    bool repaired = false;
    if (reprocess)
      repaired = co_await requeue(p.seen);
    else
      repaired = co_await fail_missing(p.seen);
    if (repaired) (reprocess ? out.requeued : out.failed_missing).push_back(p.seen.id);
  }
}

asio::awaitable<bool> reconciler::fail_missing(const model::video& seen) {
  std::string now = to_iso8601(c_.time.now());
  std::string reason = k_original_missing;
  auto fail = [&](db::transaction& tx) {
    db::lock_video(tx, seen.id);
    auto v = db::find_video(tx, seen.organization_id, seen.id);
    if (!v || v->status != seen.status || v->updated_at != seen.updated_at) return false;  // changed meanwhile
    db::fail_active_jobs(tx, seen.id, reason, now);
    db::delete_uploads_of_video(tx, seen.id);
    db::set_video_progress(tx, seen.id, std::nullopt, std::nullopt, now);
    db::set_video_status(tx, seen.id, model::video_status::failed, reason, now);
    return true;
  };
  bool failed = co_await c_.db.write(fail);
  if (!failed) co_return false;
  log::warn("video failed: its uploaded file is missing",
            {{"video", seen.id}, {"org", seen.organization_id}, {"was", model::status_name(seen.status)}});
  changed(seen.id);
  c_.hub.publish(model::video_failed(seen.organization_id, seen.id, reason));
  co_return true;
}

asio::awaitable<bool> reconciler::requeue(const model::video& seen) {
  std::string now = to_iso8601(c_.time.now());
  int attempts = c_.max_job_attempts;
  auto again = [&](db::transaction& tx) -> std::optional<model::video> {
    db::lock_video(tx, seen.id);
    auto v = db::find_video(tx, seen.organization_id, seen.id);
    if (!v || v->status != model::video_status::ready || v->updated_at != seen.updated_at) return std::nullopt;
    if (db::active_job_for_video(tx, seen.id)) return std::nullopt;
    db::reset_video_for_processing(tx, seen.id, now);
    enqueue_processing(tx, *v, now, attempts);
    return db::find_video(tx, seen.organization_id, seen.id);
  };
  auto v = co_await c_.db.write(again);
  if (!v) co_return false;
  log::warn("video processed again: its outputs are missing", {{"video", seen.id}, {"org", seen.organization_id}});
  changed(seen.id);
  c_.hub.publish(model::video_updated(*v));
  c_.processor.notify();
  co_return true;
}

void reconciler::changed(const std::string& id) const {
  if (on_video_changed) on_video_changed(id);
}

}  // namespace reel::domain
