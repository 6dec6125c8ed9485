// A separate `reel worker` and an API node (`reel serve --workers 0`) on one
// data directory, without Redis: the worker's progress, ready and failed
// events reach the API node's sockets through the database (the events
// table it tails), in order and once each, only in their organization; an
// API node that starts replays nothing; a worker or API node that restarts
// goes on. With Redis the events travel through Redis alone.
#include "support/api.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/redis.hpp"

#include "db/database.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

using namespace reel::test;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

fs::path worker_events_scratch() {
  return fs::temp_directory_path() / ("reel-worker-events-" + std::to_string(::getpid()));
}

// A Socket.IO client over Engine.IO polling that keeps every event it hears, in order.
class socket_listener {
 public:
  socket_listener(unsigned short port, const std::string& token) : port_(port) {
    auto open = call(port_, "GET", "/socket.io/?EIO=4&transport=polling");
    auto handshake = json::parse(open.raw.body().substr(1));
    sid_ = std::string(handshake.at("sid").as_string());
    auto sent = call(port_, "POST", path(), "", "40{\"token\":\"" + token + "\"}",
                     {{"Content-Type", "text/plain;charset=UTF-8"}});
    if (sent.status() != 200) throw std::runtime_error("connect refused: " + sent.raw.body());
    poll_until([this] { return connected_; }, 10s);
    if (!connected_) throw std::runtime_error("CONNECT not answered");
  }
  // Polls until `done()` or `timeout`; returns done().
  template <class F>
  bool poll_until(F done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      // The server holds a poll until something comes: a ping at the latest (every second, see k_realtime).
      auto r = call(port_, "GET", path());
      if (r.status() != 200) throw std::runtime_error("poll failed: " + r.raw.body());
      std::string_view body = r.raw.body();
      while (!body.empty()) {
        auto sep = body.find('\x1e');
        take(std::string(body.substr(0, sep)));
        if (sep == std::string_view::npos) break;
        body.remove_prefix(sep + 1);
      }
    }
    return done();
  }
  // Polls for `d`, keeping what comes.
  void listen_for(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    poll_until([until] { return std::chrono::steady_clock::now() >= until; }, d + 30s);
  }
  // The events heard so far about video `id`: "video:progress", ...
  std::vector<std::string> names_for(const std::string& id) const {
    std::vector<std::string> out;
    for (const auto& [name, payload] : events_) {
      const json::object& p = payload.as_object();
      const json::value* v = p.if_contains("id");
      if (!v && p.contains("video")) v = p.at("video").as_object().if_contains("id");
      if (v && v->as_string() == id) out.push_back(name);
    }
    return out;
  }
  const std::vector<std::pair<std::string, json::value>>& events() const { return events_; }
  std::size_t count(const std::string& id, const std::string& name) const {
    auto names = names_for(id);
    return std::count(names.begin(), names.end(), name);
  }

 private:
  void take(const std::string& packet) {
    if (packet == "2") {
      call(port_, "POST", path(), "", "3", {{"Content-Type", "text/plain"}});
    } else if (packet.starts_with("40")) {
      connected_ = true;
    } else if (packet.starts_with("42")) {
      auto args = json::parse(packet.substr(2)).as_array();
      events_.emplace_back(std::string(args.at(0).as_string()), args.at(1));
    }
  }
  std::string path() const { return "/socket.io/?EIO=4&transport=polling&sid=" + sid_; }
  unsigned short port_;
  std::string sid_;
  bool connected_ = false;
  std::vector<std::pair<std::string, json::value>> events_;
};

// The servers ping every second (a held poll returns at least that often)
// and wait long for a pong (a listener that is not polling stays).
const std::vector<std::string> k_realtime = {"--ping-interval-ms", "1000", "--ping-timeout-ms", "120000"};

std::vector<std::string> api_node(std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--workers", "0"};
  args.insert(args.end(), k_realtime.begin(), k_realtime.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// `reel worker` on `data_dir` in the background (its log in `log`); returns its pid.
int start_worker(const std::string& data_dir, const std::string& log, const std::string& env = "") {
  std::string cmd = reel_command_env(data_dir) + env + " " + reel_binary() + " worker --data-dir '" + data_dir +
                    "' --job-max-attempts 1 >" + log + " 2>&1 & echo $!";
  return std::stoi(shell(cmd));
}

void stop_worker(int pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(50ms);
}

std::int64_t event_rows(const std::string& data_dir) {
  auto db = reel::db::open_database(test_database_url(data_dir), data_dir, 1);
  std::int64_t n = 0;
  db->transact(false, [&](reel::db::transaction& s) { n = s.query_one("SELECT COUNT(*) FROM events")->int64(0); });
  return n;
}

// The last `n` lines of `text` on one line (CI shows a few lines after each failure).
std::string last_lines(const std::string& text, std::size_t n = 12) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += lines[i] + " | ";
  return out;
}

// Why video `id` is not ready yet, for a failure message: its state, and
// what the worker and the API node logged last.
std::string not_ready_because(const server_process& s, const std::string& token, const std::string& id,
                              const fs::path& worker_log) {
  auto v = call(s.port(), "GET", "/api/videos/" + id, token);
  return "video: " + std::string(v.raw.body()) + " // worker log: " + last_lines(read_file(worker_log)) +
         " // API node log: " + last_lines(s.log());
}

// Progress (at least one, percent never going back within a stage), with
// at most one video:playable among it (an H.264/AAC clip plays early), then
// exactly one `last`, and nothing of the video after it.
void expect_progress_then(const std::vector<std::string>& names, const std::string& last) {
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), last);
  EXPECT_EQ(std::count(names.begin(), names.end(), last), 1);
  EXPECT_GE(std::count(names.begin(), names.end(), "video:progress"), 1);
  EXPECT_LE(std::count(names.begin(), names.end(), "video:playable"), 1);
  for (std::size_t i = 0; i + 1 < names.size(); ++i)
    EXPECT_TRUE(names[i] == "video:progress" || names[i] == "video:playable") << i << ": " << names[i];
}

}  // namespace

TEST(worker_events, a_separate_workers_progress_ready_and_failed_events_reach_the_api_nodes_sockets) {
  fs::create_directories(worker_events_scratch());
  auto clip = make_clip((worker_events_scratch() / "a.mp4").string(), {.seconds = 3});
  server_process s(api_node());
  auto a = register_account(s.port(), "a@example.com", "A");
  auto b = register_account(s.port(), "b@example.com", "B");
  socket_listener alice(s.port(), a.token), bob(s.port(), b.token);
  int worker = start_worker(s.data_dir(), (worker_events_scratch() / "w.log").string());

  auto id = upload_clip(s.port(), a, clip);
  EXPECT_TRUE(alice.poll_until([&] { return alice.count(id, "video:ready") > 0; }, 90s))
      << not_ready_because(s, a.token, id, worker_events_scratch() / "w.log");
  alice.listen_for(500ms);  // nothing more, nothing twice
  auto names = alice.names_for(id);
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names.front(), "video:created");  // from the API node itself
  names.erase(names.begin());
  expect_progress_then(names, "video:ready");
  json::value ready;
  for (const auto& [name, payload] : alice.events())
    if (name == "video:ready") ready = payload;
  EXPECT_EQ(ready.at("video").at("status"), "ready");
  EXPECT_TRUE(ready.at("video").at("hlsUrl").is_string());
  // The cached list heard it too: it says ready at once.
  auto listed = call(s.port(), "GET", "/api/videos", a.token);
  EXPECT_EQ(listed.json.at("videos").at(0).at("status"), "ready");

  auto junk = upload_clip(s.port(), a, "not a video at all");
  EXPECT_TRUE(alice.poll_until([&] { return alice.count(junk, "video:failed") > 0; }, 30s));
  alice.listen_for(300ms);
  auto failed = alice.names_for(junk);
  EXPECT_EQ(failed.back(), "video:failed");
  EXPECT_EQ(std::count(failed.begin(), failed.end(), "video:failed"), 1);

  bob.listen_for(300ms);
  EXPECT_TRUE(bob.events().empty());  // another organization hears nothing of it
  stop_worker(worker);
  EXPECT_GT(event_rows(s.data_dir()), 0);  // they went through the table
  fs::remove_all(worker_events_scratch());
}

TEST(worker_events, a_new_api_node_replays_nothing_and_restarted_processes_go_on) {
  fs::create_directories(worker_events_scratch());
  auto clip = make_clip((worker_events_scratch() / "r.mp4").string(), {.seconds = 2});
  // A data directory of the test's own: a server_process removes its own when it goes.
  const std::string data = (worker_events_scratch() / "data").string();
  auto first = std::make_unique<server_process>(api_node({"--data-dir", data}));
  auto a = register_account(first->port(), "r@example.com", "R");
  int worker = start_worker(data, (worker_events_scratch() / "w1.log").string());
  auto before = upload_clip(first->port(), a, clip);
  ASSERT_EQ(wait_for_processing(first->port(), a.token, before).at("status"), "ready");
  ASSERT_GT(event_rows(data), 0);

  // The API node restarts: its sockets hear none of the events already in the table.
  first->stop(SIGTERM);
  first.reset();
  server_process second(api_node({"--data-dir", data}));
  socket_listener alice(second.port(), a.token);
  alice.listen_for(1s);
  EXPECT_TRUE(alice.events().empty());
  auto after_api_restart = upload_clip(second.port(), a, clip);
  EXPECT_TRUE(alice.poll_until([&] { return alice.count(after_api_restart, "video:ready") > 0; }, 90s));

  // The worker restarts: the next video's events arrive all the same.
  stop_worker(worker);
  worker = start_worker(data, (worker_events_scratch() / "w2.log").string());
  auto after_worker_restart = upload_clip(second.port(), a, clip);
  EXPECT_TRUE(alice.poll_until([&] { return alice.count(after_worker_restart, "video:ready") > 0; }, 90s));
  alice.listen_for(300ms);
  EXPECT_EQ(alice.count(before, "video:ready"), 0u);
  EXPECT_EQ(alice.count(after_api_restart, "video:ready"), 1u);
  EXPECT_EQ(alice.count(after_worker_restart, "video:ready"), 1u);
  stop_worker(worker);
  fs::remove_all(worker_events_scratch());
}

TEST(worker_events, with_redis_events_travel_through_redis_alone) {
  REEL_REQUIRE_REDIS();
  fs::create_directories(worker_events_scratch());
  auto clip = make_clip((worker_events_scratch() / "x.mp4").string(), {.seconds = 2});
  const std::string redis = redis_server::shared().url();
  server_process s(api_node(), {{"REEL_REDIS_URL", redis}});
  auto a = register_account(s.port(), "x@example.com", "X");
  socket_listener alice(s.port(), a.token);
  int worker =
      start_worker(s.data_dir(), (worker_events_scratch() / "wx.log").string(), "REEL_REDIS_URL='" + redis + "'");
  auto id = upload_clip(s.port(), a, clip);
  EXPECT_TRUE(alice.poll_until([&] { return alice.count(id, "video:ready") > 0; }, 90s))
      << not_ready_because(s, a.token, id, worker_events_scratch() / "wx.log");
  alice.listen_for(1s);  // an API node also tailing the table would deliver it a second time by now
  auto names = alice.names_for(id);
  names.erase(names.begin());  // video:created
  expect_progress_then(names, "video:ready");
  EXPECT_EQ(event_rows(s.data_dir()), 0);
  stop_worker(worker);
  fs::remove_all(worker_events_scratch());
}
