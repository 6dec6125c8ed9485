#include "domain/views.hpp"

#include "auth/playback_tokens.hpp"
#include "core/async.hpp"
#include "core/errors.hpp"
#include "core/log.hpp"
#include "db/database.hpp"
#include "db/videos.hpp"
#include "db/views.hpp"
#include "domain/permissions.hpp"

#include <boost/asio/co_spawn.hpp>

#include <cstdio>
#include <map>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

using days = std::chrono::days;

std::string date_of(std::chrono::sys_days d) {
  std::chrono::year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace

std::string utc_date(sys_time t) { return date_of(std::chrono::floor<days>(t)); }

views::views(db::gateway& db, asio::any_io_executor loop, const clock& time, std::string secret, view_settings settings)
    : db_(db), loop_(std::move(loop)), time_(time), secret_(std::move(secret)), settings_(settings) {}

std::string views::viewer_of(const play_source& p) const { return viewer_at(p, time_.now()); }

std::string views::viewer_at(const play_source& p, sys_time at) const {
  if (p.who && p.who->api_key) return "k:" + p.who->api_key->id;
  if (p.who) return "u:" + p.who->user.id;
  // The day's salt, never stored: yesterday's hashes cannot be matched to today's.
  std::string salt = auth::hmac_sha256(secret_, "views:" + utc_date(at));
  std::string who;
  who.reserve(p.address.size() + 1 + p.user_agent.size());
  who.append(p.address).append("\n").append(p.user_agent);
  return "a:" + auth::base64url_encode(auth::hmac_sha256(salt, who));
}

bool views::counted_lately(const std::string& key, sys_time at) {
  auto it = recent_.find(key);
  if (it == recent_.end()) return false;
  if (at < it->second + settings_.window) return true;
  recent_.erase(it);
  return false;
}

void views::record(const std::string& video_id, const play_source& p) {
  sys_time at = time_.now();
  std::string viewer = viewer_at(p, at);
  std::string key = video_id + "|" + viewer;
  if (counted_lately(key, at)) return;  // this process counted them within the window: no write
  if (in_flight_ >= settings_.max_writes_in_flight) {
    // Overloaded: a lost view beats an unbounded queue in front of the database.
    if (dropped_++ % 1000 == 0)
      log::warn("views dropped: too many counting writes under way",
                {{"in_flight", in_flight_}, {"dropped", dropped_}});
    return;
  }
  ++in_flight_;
  auto done = [this, key = std::move(key), at](std::exception_ptr e, bool counted) {
    --in_flight_;
    if (e) {
      // While the database is down every play fails alike: the first and every 100th are logged.
      if (failed_++ % 100 == 0) log::warn("a view was not counted", {{"error", describe(e)}, {"failed", failed_}});
      return;
    }
    if (!counted) return;
    ++counted_;
    // Full: start again (forgetting costs only writes the database answers "already counted").
    if (recent_.size() >= settings_.remembered_viewers) recent_.clear();
    recent_[key] = at;
  };
  asio::co_spawn(loop_, count(video_id, std::move(viewer), at), std::move(done));
}

asio::awaitable<bool> views::count(std::string video_id, std::string viewer, sys_time at) {
  std::string now = to_iso8601(at);
  std::string again_after = to_iso8601(at - settings_.window);
  std::string day = utc_date(at);
  auto write = [&](db::transaction& s) { return db::count_view(s, video_id, viewer, now, again_after, day); };
  co_return co_await db_.write(write);
}

asio::awaitable<view_stats> views::stats(const model::org_scope& in, const std::string& id, int n) {
  require(in, action::view_videos);
  auto today = std::chrono::floor<days>(time_.now());
  std::string first = date_of(today - days(n - 1));
  const std::string& org_id = in.id;
  struct found {
    std::int64_t total;
    std::vector<std::pair<std::string, std::int64_t>> days;
  };
  auto read = [&](db::transaction& s) -> std::optional<found> {
    auto v = db::find_video(s, org_id, id);
    if (!v) return std::nullopt;
    return found{v->view_count, db::view_days(s, id, first)};
  };
  auto got = co_await db_.read(read);
  if (!got) throw error(errc::not_found, "No such video.");
  std::map<std::string, std::int64_t> by_day(got->days.begin(), got->days.end());
  view_stats out{id, got->total, {}};
  out.days.reserve(static_cast<std::size_t>(n));
  for (int back = n - 1; back >= 0; --back) {
    std::string date = date_of(today - days(back));
    auto it = by_day.find(date);
    out.days.push_back({date, it == by_day.end() ? 0 : it->second});
  }
  co_return out;
}

asio::awaitable<std::int64_t> views::prune() {
  sys_time now = time_.now();
  std::string before = to_iso8601(now - settings_.window);
  std::string first_kept = date_of(std::chrono::floor<days>(now) - days(settings_.kept_days));
  auto write = [&](db::transaction& s) { return db::forget_viewers(s, before) + db::forget_view_days(s, first_kept); };
  co_return co_await db_.write(write);
}

}  // namespace reel::domain
