// The job queue where only PostgreSQL can break it: claims in many
// transactions at once, in many processes.
#include "db/jobs.hpp"
#include "db/migrations.hpp"

#include "core/clock.hpp"
#include "support/postgres.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using namespace reel::db;
namespace model = reel::model;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string jobs_at(int second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-01-01T%02d:%02d:%02d.000Z", second / 3600, second / 60 % 60, second % 60);
  return buf;
}

model::job jobs_queued_job(const std::string& id, const std::string& org, const std::string& created) {
  model::job j;
  j.id = id;
  j.kind = "process_video";
  j.organization_id = org;
  j.run_after = j.created_at = j.updated_at = created;
  return j;
}

class postgres_jobs_test : public ::testing::Test {
 protected:
  void SetUp() override {
    REEL_REQUIRE_POSTGRES();
    url_ = reel::test::postgres_server::shared().create_database();
    db_ = open_database(url_, "", 4);
    migrate(*db_, jobs_at(0));
  }

  std::optional<model::job> find(const std::string& id) {
    std::optional<model::job> out;
    db_->transact(false, [&](transaction& s) { out = find_job(s, id); });
    return out;
  }

  // Sessions of this database waiting for a lock (a claim blocked by another).
  std::int64_t sessions_waiting_for_a_lock() {
    std::int64_t n = 0;
    db_->transact(false, [&](transaction& s) {
      n = s.query_one(
               "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
              ->int64(0);
    });
    return n;
  }

  // Runs a write transaction in a thread that claims a job for `owner` and
  // holds the transaction open (the job's row locked) until release().
  struct held_claim {
    std::promise<std::optional<model::job>> claimed;
    std::promise<void> release;
    std::thread thread;
    ~held_claim() {
      if (thread.joinable()) thread.join();
    }
  };
  void hold_claim(held_claim& h, const std::string& owner, int second) {
    h.thread = std::thread([this, &h, owner, second] {
      auto released = h.release.get_future();
      bool claimed = false;
      try {
        db_->transact(true, [&](transaction& s) {
          auto j = claim_job(s, owner, jobs_at(second), jobs_at(second + 30));
          claimed = true;
          h.claimed.set_value(std::move(j));
          released.wait();
        });
      } catch (...) {
        if (!claimed) h.claimed.set_exception(std::current_exception());
      }
    });
  }

  std::string url_;
  std::unique_ptr<database> db_;
};

// The same statements as the backend's transaction, but in the form for a
// backend whose writes run one at a time: a pick without row locks.
class without_row_locks final : public transaction {
 public:
  explicit without_row_locks(transaction& inner) : inner_(inner) {}
  std::int64_t exec(std::string_view sql, std::initializer_list<value> params) override {
    return inner_.exec(sql, params);
  }
  std::vector<row> query(std::string_view sql, std::initializer_list<value> params) override {
    return inner_.query(sql, params);
  }

 private:
  transaction& inner_;
};

}  // namespace

TEST_F(postgres_jobs_test, a_claim_passes_over_the_job_another_claim_holds_without_waiting_for_it) {
  db_->transact(true, [](transaction& s) {
    insert_job(s, jobs_queued_job("a1", "org-a", jobs_at(1)));
    insert_job(s, jobs_queued_job("a2", "org-a", jobs_at(2)));
  });
  held_claim first;
  hold_claim(first, "w1", 10);
  auto first_job = first.claimed.get_future().get();
  ASSERT_TRUE(first_job);
  EXPECT_EQ(first_job->id, "a1");

  // a1 is locked by an open transaction: the next claim takes a2 at once.
  auto second = std::async(std::launch::async, [this] {
    std::optional<model::job> out;
    db_->transact(true, [&](transaction& s) { out = claim_job(s, "w2", jobs_at(11), jobs_at(41)); });
    return out;
  });
  bool waited = second.wait_for(5s) != std::future_status::ready;
  first.release.set_value();
  auto second_job = second.get();
  EXPECT_FALSE(waited) << "the claim waited for the lock of the other claim's job";
  ASSERT_TRUE(second_job);
  EXPECT_EQ(second_job->id, "a2");
  first.thread.join();
  EXPECT_EQ(find("a1")->lease_owner, "w1");
  EXPECT_EQ(find("a1")->attempts, 1);
  EXPECT_EQ(find("a2")->lease_owner, "w2");
  EXPECT_EQ(find("a2")->attempts, 1);
}

// The second line of defence: were the pick not locked, the claim's UPDATE
// still takes the job only if it is runnable when the UPDATE runs.
TEST_F(postgres_jobs_test, a_claim_without_row_locks_does_not_take_a_job_claimed_since_it_looked) {
  db_->transact(true, [](transaction& s) { insert_job(s, jobs_queued_job("a1", "org-a", jobs_at(1))); });
  held_claim first;
  hold_claim(first, "w1", 10);
  ASSERT_TRUE(first.claimed.get_future().get());

  // The second claim sees a1 still queued (the first has not committed) and
  // its UPDATE waits for a1's row lock.
  auto second = std::async(std::launch::async, [this] {
    std::optional<model::job> out;
    db_->transact(true, [&](transaction& s) {
      without_row_locks plain(s);
      out = claim_job(plain, "w2", jobs_at(11), jobs_at(41));
    });
    return out;
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (sessions_waiting_for_a_lock() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  bool blocked = sessions_waiting_for_a_lock() > 0;
  first.release.set_value();  // commits: a1 is running, leased to w1 until second 40
  EXPECT_TRUE(blocked) << "the second claim never reached the UPDATE";
  EXPECT_FALSE(second.get());
  first.thread.join();
  auto a1 = find("a1");
  EXPECT_EQ(a1->lease_owner, "w1");
  EXPECT_EQ(a1->attempts, 1);
}

namespace {

struct worker_tally {
  std::vector<std::string> claimed;
  int lost_finishes = 0;  // finish_job found the job no longer this worker's
  int missed = 0;         // a claim came back empty while jobs enough for every worker were queued
};

// One worker of a child process: claim → finish until nothing is queued.
void run_claim_worker(database& db, const std::string& owner, int workers, worker_tally& t) {
  reel::system_clock clock;
  std::string last_org;
  for (;;) {
    auto now = reel::to_iso8601(clock.now());
    auto lease_until = reel::to_iso8601(clock.now() + 60s);
    std::optional<model::job> j;
    db.transact(true, [&](transaction& s) { j = claim_job(s, owner, now, lease_until, last_org); });
    if (!j) {
      // Each other worker locks at most one queued job while it claims: with
      // at least as many queued as there are workers, a claim must find one.
      std::int64_t queued = 0;
      db.transact(false, [&](transaction& s) {
        queued = s.query_one("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")->int64(0);
      });
      if (queued == 0) return;
      if (queued >= workers) ++t.missed;
      continue;
    }
    t.claimed.push_back(j->id);
    last_org = j->organization_id;
    bool finished = false;
    auto done = reel::to_iso8601(clock.now());
    db.transact(true, [&](transaction& s) {
      finished = finish_job(s, j->id, owner, model::job_state::succeeded, std::nullopt, done);
    });
    if (!finished) ++t.lost_finishes;
  }
}

// A child process: `threads` workers with a connection pool of its own;
// writes what they did to `report`. Never returns.
[[noreturn]] void run_claim_process(const std::string& url, int index, int threads, int workers,
                                    const std::string& report) {
  int status = 0;
  std::ofstream out(report);
  try {
    auto db = open_database(url, "", static_cast<unsigned>(threads));
    std::vector<worker_tally> tallies(threads);
    std::vector<std::thread> pool;
    std::vector<std::string> errors(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        try {
          run_claim_worker(*db, "p" + std::to_string(index) + "w" + std::to_string(t), workers, tallies[t]);
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) {
      for (const auto& id : tallies[t].claimed) out << "claimed " << id << "\n";
      out << "lost_finishes " << tallies[t].lost_finishes << "\nmissed " << tallies[t].missed << "\n";
      if (!errors[t].empty()) {
        out << "error " << errors[t] << "\n";
        status = 1;
      }
    }
  } catch (const std::exception& e) {
    out << "error " << e.what() << "\n";
    status = 1;
  }
  out.close();
  ::_exit(status);  // no atexit handlers: the shared test server belongs to the parent
}

}  // namespace

// 500 jobs claimed and finished by 8 workers in 4 processes on the
// fixture's database: each exactly once, at the first attempt. Prints the
// throughput (bench/queue.sh reads the line).
void claim_500_jobs_with_8_workers_in_4_processes(const std::string& url, std::unique_ptr<database>& db_,
                                                  const char* backend) {
  constexpr int processes = 4, threads = 2, workers = processes * threads, jobs = 500;
  const std::string& url_ = url;
  db_->transact(true, [](transaction& s) {
    for (int i = 0; i < jobs; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "job%03d", i);
      insert_job(s, jobs_queued_job(id, "org-" + std::to_string(i % 5), jobs_at(i % 3600)));
    }
  });
  db_.reset();  // no connection of the parent's crosses the fork

  fs::path dir = fs::temp_directory_path() / ("reel-claims-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<pid_t> children;
  auto started = std::chrono::steady_clock::now();
  for (int p = 0; p < processes; ++p) {
    std::string report = (dir / ("process" + std::to_string(p))).string();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) run_claim_process(url_, p, threads, workers, report);
    children.push_back(pid);
  }
  auto deadline = started + 120s;
  for (pid_t pid : children) {
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        for (pid_t c : children) ::kill(c, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "the workers did not finish within 120 s";
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid << " status " << status;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::multiset<std::string> claimed;
  int lost_finishes = 0, missed = 0;
  std::vector<int> per_process;
  for (int p = 0; p < processes; ++p) {
    std::ifstream in(dir / ("process" + std::to_string(p)));
    std::string key, value;
    int count = 0;
    while (in >> key && std::getline(in >> std::ws, value)) {
      if (key == "claimed") {
        claimed.insert(value);
        ++count;
      } else if (key == "lost_finishes") {
        lost_finishes += std::stoi(value);
      } else if (key == "missed") {
        missed += std::stoi(value);
      } else if (key == "error") {
        ADD_FAILURE() << "process " << p << ": " << value;
      }
    }
    per_process.push_back(count);
  }
  fs::remove_all(dir);
  std::printf("[ claims   ] %s: %d jobs by %d workers in %d processes in %.2f s (%.0f jobs/s); per process:", backend,
              jobs, workers, processes, seconds, jobs / seconds);
  for (int n : per_process) std::printf(" %d", n);
  std::printf("\n");

  EXPECT_EQ(claimed.size(), std::size_t(jobs)) << "claims in all";
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), std::size_t(jobs)) << "distinct jobs";
  EXPECT_EQ(lost_finishes, 0) << "a job was taken from the worker that ran it";
  EXPECT_EQ(missed, 0) << "claims came back empty while many jobs were queued (claims raced for one job)";
  db_ = open_database(url_, "", 1);
  db_->transact(false, [&](transaction& s) {
    auto r =
        s.query_one("SELECT COUNT(*), SUM(CASE WHEN state = 'succeeded' AND attempts = 1 THEN 1 ELSE 0 END) FROM jobs");
    EXPECT_EQ(r->int64(0), jobs);
    EXPECT_EQ(r->int64(1), jobs) << "jobs succeeded at the first attempt";
  });
}

TEST_F(postgres_jobs_test, eight_workers_in_four_processes_claim_and_finish_each_of_500_jobs_exactly_once) {
  claim_500_jobs_with_8_workers_in_4_processes(url_, db_, "postgresql");
}

// The same on SQLite, whose write transactions are serialized (BEGIN IMMEDIATE):
// the yardstick for the PostgreSQL figure.
TEST(sqlite_jobs, eight_workers_in_four_processes_claim_and_finish_each_of_500_jobs_exactly_once) {
  fs::path dir = fs::temp_directory_path() / ("reel-sqlite-claims-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string url = "sqlite://" + (dir / "reel.db").string();
  auto db = open_database(url, "", 1);
  migrate(*db, jobs_at(0));
  claim_500_jobs_with_8_workers_in_4_processes(url, db, "sqlite");
  db.reset();
  fs::remove_all(dir);
}
