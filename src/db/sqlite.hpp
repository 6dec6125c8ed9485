// The embedded SQLite backend: a small pool of connections to one database
// file in WAL mode (readers never block the writer), foreign keys on, a busy
// timeout, and prepared statements cached per connection.
#pragma once

#include "db/database.hpp"

#include <condition_variable>
#include <mutex>

struct sqlite3;

namespace reel::db {

class sqlite_database final : public database {
 public:
  // Opens (creating if needed) `path` with `connections` connections.
  // Throws db_error(unavailable) with the reason.
  sqlite_database(const std::string& path, unsigned connections);
  ~sqlite_database() override;

  void transact(bool write, const std::function<void(transaction&)>& fn) override;
  // The statement alone, in SQLite's autocommit mode: it reads from one
  // snapshot, held until it is reset, as inside BEGIN ... COMMIT.
  void read_statement(const std::function<void(transaction&)>& fn) override;
  std::string_view backend() const noexcept override { return "sqlite"; }

 private:
  class connection;
  connection* acquire();
  void release(connection* c);

  std::vector<std::unique_ptr<connection>> all_;
  std::vector<connection*> free_;
  std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace reel::db
