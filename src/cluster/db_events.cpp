#include "cluster/db_events.hpp"

#include "core/async.hpp"
#include "core/log.hpp"
#include "db/events.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <unordered_map>

namespace reel::cluster {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view k_progress = "video:progress";

const json::string* id_in(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o) return nullptr;
  const json::value* id = o->if_contains("id");
  return id ? id->if_string() : nullptr;
}

}  // namespace

std::string video_id_of(const event& e) {
  if (const json::string* id = id_in(e.payload)) return std::string(*id);
  if (const json::object* o = e.payload.if_object())
    if (const json::value* v = o->if_contains("video"))
      if (const json::string* id = id_in(*v)) return std::string(*id);
  return {};
}

// ---- the writer (a worker's hub) ----

database_event_hub::database_event_hub(asio::io_context& io, db::gateway& db, const clock& c, event_writer_options o)
    : io_(io), db_(db), clock_(c), options_(o) {}

void database_event_hub::publish(const event& e) {
  local_.publish(e);
  std::string video = video_id_of(e);
  if (e.name == k_progress && !video.empty()) {
    // The newest queued event of this video, if it is progress, is replaced.
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
      if (it->video_id != video || it->e.organization_id != e.organization_id) continue;
      if (it->e.name == k_progress) {
        it->e.payload = e.payload;
        return;
      }
      break;
    }
  }
  pending_.push_back({e, std::move(video)});
  trim();
  if (writing_) return;
  writing_ = true;
  // (run_writer clears writing_ itself when it ends normally: its completion
  // handler runs later, maybe after a new writer started.)
  asio::co_spawn(io_, run_writer(), [this](std::exception_ptr ex) {
    if (!ex) return;
    writing_ = false;
    log_failure("writing events to the database")(ex);
  });
}

void database_event_hub::trim() {
  while (pending_.size() > options_.max_pending) {
    pending_.pop_front();
    if (dropped_++ == 0 || dropped_ % 1000 == 0)
      log::warn("events for the API nodes dropped: the database takes none", {{"dropped", dropped_}});
  }
}

asio::awaitable<void> database_event_hub::run_writer() {
  while (!pending_.empty()) {
    std::deque<queued> batch;
    batch.swap(pending_);
    in_flight_ = batch.size();
    bool ok = co_await write(batch);
    in_flight_ = 0;
    if (ok) {
      written_ += batch.size();
      continue;
    }
    // Kept, in order, before whatever came meanwhile; tried again a moment later.
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending_.push_front(std::move(*it));
    trim();
    asio::steady_timer wait(io_, options_.retry);
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  writing_ = false;
}

asio::awaitable<bool> database_event_hub::write(std::deque<queued>& batch) {
  std::vector<db::outbox_event> rows;
  rows.reserve(batch.size());
  for (const auto& q : batch) rows.push_back({0, q.e.organization_id, q.e.name, json::serialize(q.e.payload), {}});
  const sys_time t = clock_.now();
  const std::string now = to_iso8601(t);
  std::optional<std::string> prune_before;
  if (t >= next_prune_) prune_before = to_iso8601(t - options_.keep);
  std::string failure;
  try {
    auto append = [&rows, &now, &prune_before](db::transaction& s) {
      db::append_order(s);
      for (const auto& r : rows) db::append_event(s, r, now);
      if (prune_before) db::prune_events(s, *prune_before);
    };
    co_await db_.write(append);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    if (!failing_) log::warn("writing events to the database failed; retrying", {{"error", failure}});
    failing_ = true;
    co_return false;
  }
  if (failing_) log::info("writing events to the database again");
  failing_ = false;
  if (prune_before) next_prune_ = t + options_.prune_every;
  co_return true;
}

asio::awaitable<void> database_event_hub::flush(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  asio::steady_timer tick(io_);
  while (writing_ && std::chrono::steady_clock::now() < until) {
    tick.expires_after(std::chrono::milliseconds(10));
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (pending() > 0) log::warn("events not written before stopping", {{"events", pending()}});
}

// ---- the tail (an API node) ----

database_event_tail::database_event_tail(asio::io_context& io, db::gateway& db, std::unique_ptr<db::listener> wakeups,
                                         event_tail_options o)
    : io_(io), db_(db), wakeups_(std::move(wakeups)), options_(o), timer_(io) {}

void database_event_tail::start() {
  stopped_ = false;
  running_ = true;
  if (wakeups_)
    wakeups_->start([this] {
      ++notifications_;
      timer_.cancel();
    });
  asio::co_spawn(io_, run_tail(), [this](std::exception_ptr e) {
    if (!e) return;
    running_ = false;
    log_failure("reading events from the database")(e);
  });
}

void database_event_tail::stop() {
  stopped_ = true;
  if (wakeups_) wakeups_->stop();
  timer_.cancel();
}

asio::awaitable<void> database_event_tail::pause(std::chrono::milliseconds d) {
  timer_.expires_after(d);
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> database_event_tail::run_tail() {
  const auto idle = wakeups_ ? options_.poll_notified : options_.poll;
  bool failing = false;
  while (!stopped_) {
    const std::uint64_t heard = notifications_;
    std::vector<db::outbox_event> rows;
    std::string failure;
    try {
      if (!positioned_) {
        auto where = [](db::transaction& s) { return db::last_event_id(s); };
        last_ = co_await db_.read(where);
        positioned_ = true;
      } else {
        const std::int64_t after = last_, limit = options_.batch;
        auto read = [after, limit](db::transaction& s) { return db::events_after(s, after, limit); };
        rows = co_await db_.read(read);
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (stopped_) break;
    if (!failure.empty() && !failing)
      log::warn("reading events from the database failed; retrying", {{"error", failure}});
    if (failure.empty() && failing) log::info("reading events from the database again");
    failing = !failure.empty();
    if (!rows.empty()) {
      last_ = rows.back().id;
      std::vector<event> events;
      events.reserve(rows.size());
      for (auto& r : rows) {
        boost::system::error_code ec;
        json::value payload = json::parse(r.payload, ec);
        if (ec) {
          log::warn("ignored an event whose payload is not JSON", {{"id", r.id}, {"name", r.name}});
          continue;
        }
        events.push_back({std::move(r.organization_id), std::move(r.name), std::move(payload)});
      }
      deliver(events);
      if (static_cast<std::int64_t>(rows.size()) == options_.batch) continue;  // more to read at once
    }
    if (notifications_ != heard && failure.empty()) continue;  // woken while reading
    co_await pause(failing ? std::max(idle, std::chrono::milliseconds(1'000)) : idle);
  }
  running_ = false;
}

void database_event_tail::deliver(const std::vector<event>& events) {
  // A progress event is skipped when the next event of its video in this
  // read is progress too (the later one says more).
  std::vector<bool> skip(events.size(), false);
  std::unordered_map<std::string, bool> next_is_progress;
  for (std::size_t i = events.size(); i-- > 0;) {
    std::string video = video_id_of(events[i]);
    if (video.empty()) continue;
    bool progress = events[i].name == k_progress;
    auto [it, fresh] = next_is_progress.try_emplace(std::move(video), false);
    if (progress && it->second) skip[i] = true;
    it->second = progress;
  }
  for (std::size_t i = 0; i < events.size() && !stopped_; ++i) {
    if (skip[i]) continue;
    ++delivered_;
    if (on_event) on_event(events[i]);
  }
}

}  // namespace reel::cluster
