// The PostgreSQL backend, on libpq: a pool of connections that replaces a
// lost one by itself, each statement prepared once per connection with its
// `?` placeholders numbered $1..$n, and the server's SQLSTATEs turned into
// db_error codes. Blocking, like every backend: its calls run on the thread
// pool through db::gateway, never on the loop thread.
#pragma once

#include "db/database.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace reel::db {

struct postgres_settings {
  // At most this many connections at once; more callers wait for one.
  unsigned connections = 8;
  // Set on every connection: a statement running longer is cancelled and
  // its transaction fails with db_error(unavailable).
  std::chrono::milliseconds statement_timeout{30'000};
  // For each connection attempt, unless the URL says connect_timeout itself.
  std::chrono::seconds connect_timeout{10};
};

class postgres_database final : public database {
 public:
  // `url`: a libpq URI (postgres://user:password@host:port/db,
  // postgresql:///db?host=/socket/dir) or key=value string. Connects once
  // to check it; the other connections are made when first needed.
  // Throws db_error(unavailable) with one sentence naming the server and
  // the cause, never the password.
  postgres_database(const std::string& url, postgres_settings settings = {});
  ~postgres_database() override;

  // BEGIN (READ COMMITTED, for reads and writes alike), fn, COMMIT; fn
  // throws: ROLLBACK and rethrow. Errors: conflict for a constraint
  // violation (SQLSTATE 23xxx); unavailable when the connection is lost
  // (the connection is then dropped and a new one made on a later call),
  // the server shuts down or is starting, a statement times out, or on
  // lock and resource contention; internal otherwise. A connection found
  // closed at BEGIN, before any work (the server restarted while it sat in
  // the pool), is replaced and the transaction goes ahead.
  //
  // Unlike SQLite, a failed statement aborts the whole transaction: a db_error
  // thrown inside fn must leave fn (every repository caller lets it).
  void transact(bool write, const std::function<void(transaction&)>& fn) override;
  // The statement alone, without BEGIN and COMMIT (one round trip instead
  // of three): under READ COMMITTED a single statement reads from one
  // snapshot either way. Errors as transact's; a connection found closed
  // (the server restarted while it sat in the pool) is replaced and the
  // read runs once more on the new one, as BEGIN does in transact.
  void read_statement(const std::function<void(transaction&)>& fn) override;
  std::string_view backend() const noexcept override { return "postgresql"; }
  // LISTEN on a connection of its own, in a thread of its own (see
  // db::listener); it connects when started, and again with backoff (up to
  // 10 s apart) whenever the connection is lost. The pool's connections
  // notify with pg_notify.
  std::unique_ptr<listener> listen(std::string_view channel, boost::asio::any_io_executor loop) override;

 private:
  class connection;
  std::unique_ptr<connection> connect() const;
  std::unique_ptr<connection> acquire();
  void release(std::unique_ptr<connection> c);
  void begin(std::unique_ptr<connection>& c);
  void read_alone(connection& c, const std::function<void(transaction&)>& fn);

  std::string url_;
  std::string server_;  // host:port/database, for messages
  postgres_settings settings_;

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<connection>> idle_;
  unsigned open_ = 0;  // connections idle, in use or being made
};

// `sql` with each `?` outside quotes and comments replaced by $1, $2, ...
// in order; `count` receives how many there were.
std::string number_placeholders(std::string_view sql, int* count = nullptr);

}  // namespace reel::db
