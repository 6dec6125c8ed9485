#include "db/sqlite.hpp"

#include <sqlite3.h>

#include <unordered_map>

namespace reel::db {

namespace {

// What a failed call means to reel: SQLITE_FULL, and an I/O error whose
// errno (`system_errno`) says the volume is full, is insufficient_storage.
errc classify(int rc, int system_errno = 0) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return errc::conflict;
    case SQLITE_FULL:
      return errc::insufficient_storage;
    case SQLITE_IOERR:
      return errc_of_errno(system_errno) == errc::insufficient_storage ? errc::insufficient_storage : errc::unavailable;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  throw db_error(classify(rc, db ? sqlite3_system_errno(db) : 0), msg);
}

// The current row of a stepped statement, read column by column as row reads
// its values (an integer column read as a number, a real as an integer).
// Each read takes the column's value once (sqlite3_column_value) and reads
// it with the sqlite3_value_* calls.
class statement_row final : public row_view {
 public:
  explicit statement_row(sqlite3_stmt* st) : st_(st), columns_(static_cast<std::size_t>(sqlite3_column_count(st))) {}
  bool is_null(std::size_t i) const override { return sqlite3_value_type(at(i)) == SQLITE_NULL; }
  std::int64_t int64(std::size_t i) const override { return int64_of(at(i), i); }
  double real(std::size_t i) const override { return real_of(at(i), i); }
  std::string_view text(std::size_t i) const override { return text_of(at(i), i); }
  std::optional<std::string_view> opt_view(std::size_t i) const override {
    sqlite3_value* v = at(i);
    if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
    return text_of(v, i);
  }
  std::optional<std::int64_t> opt_int64(std::size_t i) const override {
    sqlite3_value* v = at(i);
    if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
    return int64_of(v, i);
  }
  std::optional<double> opt_real(std::size_t i) const override {
    sqlite3_value* v = at(i);
    if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
    return real_of(v, i);
  }

 private:
  sqlite3_value* at(std::size_t i) const {
    if (i >= columns_) column_mismatch(i, "in the result");
    return sqlite3_column_value(st_, static_cast<int>(i));
  }
  static std::int64_t int64_of(sqlite3_value* v, std::size_t i) {
    switch (sqlite3_value_type(v)) {
      case SQLITE_INTEGER:
        return sqlite3_value_int64(v);
      case SQLITE_FLOAT:
        return static_cast<std::int64_t>(sqlite3_value_double(v));
      default:
        column_mismatch(i, "an integer");
    }
  }
  static double real_of(sqlite3_value* v, std::size_t i) {
    switch (sqlite3_value_type(v)) {
      case SQLITE_FLOAT:
        return sqlite3_value_double(v);
      case SQLITE_INTEGER:
        return static_cast<double>(sqlite3_value_int64(v));
      default:
        column_mismatch(i, "a number");
    }
  }
  static std::string_view text_of(sqlite3_value* v, std::size_t i) {
    int type = sqlite3_value_type(v);
    if (type != SQLITE_TEXT && type != SQLITE_BLOB) column_mismatch(i, "text");
    auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    return {p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v))};
  }
  sqlite3_stmt* st_;
  std::size_t columns_;
};

}  // namespace

class sqlite_database::connection final : public transaction {
 public:
  explicit connection(const std::string& path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw db_error(errc::unavailable, "cannot open the database " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 10'000);
    // WAL: readers and one writer at once. synchronous=FULL: a committed
    // transaction survives a power loss, not only a crash of this process.
    exec_plain("PRAGMA journal_mode=WAL");
    exec_plain("PRAGMA synchronous=FULL");
    exec_plain("PRAGMA foreign_keys=ON");
  }
  ~connection() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  void exec_plain(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw db_error(classify(rc, sqlite3_system_errno(db_)), std::string(sql) + ": " + msg);
    }
  }

  std::int64_t exec(std::string_view sql, std::initializer_list<value> params) override {
    sqlite3_stmt* st = prepare(sql, params);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    finish(st, rc, sql);
    return sqlite3_changes64(db_);
  }

  std::vector<row> query(std::string_view sql, std::initializer_list<value> params) override {
    sqlite3_stmt* st = prepare(sql, params);
    std::vector<row> rows;
    int rc;
    int n = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<value> cols;
      cols.reserve(n);
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(st, i)) {
          case SQLITE_INTEGER:
            cols.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(st, i)));
            break;
          case SQLITE_FLOAT:
            cols.emplace_back(sqlite3_column_double(st, i));
            break;
          case SQLITE_NULL:
            cols.emplace_back(nullptr);
            break;
          default: {
            auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
            cols.emplace_back(std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st, i))));
          }
        }
      }
      rows.emplace_back(std::move(cols));
    }
    finish(st, rc, sql);
    return rows;
  }

  void query_each(std::string_view sql, std::initializer_list<value> params,
                  const std::function<void(const row_view&)>& fn) override {
    sqlite3_stmt* st = prepare(sql, params);
    statement_row current(st);
    int rc;
    try {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) fn(current);
    } catch (...) {
      sqlite3_reset(st);  // the statement is not left running (its read lock held)
      throw;
    }
    finish(st, rc, sql);
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql, std::initializer_list<value> params) {
    auto it = statements_.find(std::string(sql));
    sqlite3_stmt* st = nullptr;
    if (it != statements_.end()) {
      st = it->second;
    } else {
      int rc =
          sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st, nullptr);
      if (rc != SQLITE_OK) fail(db_, rc, "prepare");
      statements_.emplace(std::string(sql), st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int i = 1;
    for (const auto& p : params) {
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>)
              return sqlite3_bind_null(st, i);
            else if constexpr (std::is_same_v<T, std::int64_t>)
              return sqlite3_bind_int64(st, i, v);
            else if constexpr (std::is_same_v<T, double>)
              return sqlite3_bind_double(st, i, v);
            else
              return sqlite3_bind_text64(st, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          },
          p.get());
      if (rc != SQLITE_OK) fail(db_, rc, "bind");
      ++i;
    }
    return st;
  }

  void finish(sqlite3_stmt* st, int rc, std::string_view sql) {
    if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(st);
      throw db_error(classify(rc, sqlite3_system_errno(db_)), msg + " (in: " + std::string(sql.substr(0, 80)) + ")");
    }
    sqlite3_reset(st);
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

namespace {

// Before the first connection: no global count of SQLite's allocations
// (kept by default, it takes a process-wide mutex on every allocation of
// every connection, and nothing here reads it). Fails harmlessly when
// SQLite is already initialized.
void configure_sqlite_once() {
  static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
  (void)configured;
}

}  // namespace

sqlite_database::sqlite_database(const std::string& path, unsigned connections) {
  configure_sqlite_once();
  for (unsigned i = 0; i < std::max(1u, connections); ++i) {
    all_.push_back(std::make_unique<connection>(path));
    free_.push_back(all_.back().get());
  }
}

sqlite_database::~sqlite_database() = default;

sqlite_database::connection* sqlite_database::acquire() {
  std::unique_lock lock(mutex_);
  available_.wait(lock, [this] { return !free_.empty(); });
  auto* c = free_.back();
  free_.pop_back();
  return c;
}

void sqlite_database::release(connection* c) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(c);
  }
  available_.notify_one();
}

void sqlite_database::transact(bool write, const std::function<void(transaction&)>& fn) {
  connection* c = acquire();
  struct releaser {
    sqlite_database* self;
    connection* c;
    ~releaser() { self->release(c); }
  } guard{this, c};
  c->exec_plain(write ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    fn(*c);
    c->exec_plain("COMMIT");
  } catch (...) {
    try {
      c->exec_plain("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

void sqlite_database::read_statement(const std::function<void(transaction&)>& fn) {
  connection* c = acquire();
  struct releaser {
    sqlite_database* self;
    connection* c;
    ~releaser() { self->release(c); }
  } guard{this, c};
  single_read one(*c);
  fn(one);
}

}  // namespace reel::db
