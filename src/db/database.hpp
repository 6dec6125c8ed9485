// The database interface every backend implements (SQLite, PostgreSQL), and
// the async bridge that runs database work on the thread pool.
//
// SQL lives in the repositories (src/db/*.cpp) as constants with bound
// parameters, written in the SQL both backends accept, with `?` placeholders
// (a PostgreSQL backend numbers them $1, $2, ... when it prepares them).
// Driver error codes become `db_error` with an errc here, nowhere else.
#pragma once

#include "core/errors.hpp"
#include "core/offload.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace reel::db {

// One bound parameter or result column.
class value {
 public:
  using storage = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
  value(std::nullptr_t = nullptr) : v_(nullptr) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) value(I i) : v_(static_cast<std::int64_t>(i)) {}
  value(bool b) : v_(std::int64_t(b ? 1 : 0)) {}
  value(double d) : v_(d) {}
  value(std::string s) : v_(std::move(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(const char* s) : v_(std::string(s)) {}
  template <class T>
  value(const std::optional<T>& o) : v_(nullptr) {
    if (o) *this = value(*o);
  }
  const storage& get() const noexcept { return v_; }
  storage& get() noexcept { return v_; }
  bool is_null() const noexcept { return std::holds_alternative<std::nullptr_t>(v_); }

 private:
  storage v_;
};

// A result row. Accessors throw db_error(internal) on a type mismatch.
class row {
 public:
  explicit row(std::vector<value> cols) : cols_(std::move(cols)) {}
  std::size_t size() const noexcept { return cols_.size(); }
  bool is_null(std::size_t i) const { return cols_.at(i).is_null(); }
  std::int64_t int64(std::size_t i) const;
  double real(std::size_t i) const;
  const std::string& text(std::size_t i) const;
  // text(i) and opt_text(i), moved out of the row (which keeps an empty string).
  std::string take_text(std::size_t i);
  std::optional<std::string> take_opt_text(std::size_t i);
  std::optional<std::string> opt_text(std::size_t i) const;
  std::optional<std::int64_t> opt_int64(std::size_t i) const;
  std::optional<double> opt_real(std::size_t i) const;

 private:
  std::vector<value> cols_;
};

// Throws the db_error(internal) of column `i` read as what it is not ("an integer").
[[noreturn]] void column_mismatch(std::size_t i, const char* want);

// A result row read where it lies (transaction::query_each): the columns of
// the statement's current row, valid only during the call that got it. Same
// types and rules as row: a mismatch throws db_error(internal).
class row_view {
 public:
  virtual bool is_null(std::size_t i) const = 0;
  virtual std::int64_t int64(std::size_t i) const = 0;
  virtual double real(std::size_t i) const = 0;
  virtual std::string_view text(std::size_t i) const = 0;
  std::string str(std::size_t i) const { return std::string(text(i)); }
  // NULL as nullopt; a backend may read the column once for both.
  virtual std::optional<std::string_view> opt_view(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  // The column's text into `into`, reusing its storage (a list read into
  // the rows of the previous one allocates nothing).
  void read_text(std::size_t i, std::string& into) const;
  void read_opt_text(std::size_t i, std::optional<std::string>& into) const;
  virtual std::optional<std::int64_t> opt_int64(std::size_t i) const;
  virtual std::optional<double> opt_real(std::size_t i) const;

 protected:
  ~row_view() = default;
};

// A row seen as a row_view.
class row_ref final : public row_view {
 public:
  explicit row_ref(const row& r) : r_(r) {}
  bool is_null(std::size_t i) const override { return r_.is_null(i); }
  std::int64_t int64(std::size_t i) const override { return r_.int64(i); }
  double real(std::size_t i) const override { return r_.real(i); }
  std::string_view text(std::size_t i) const override { return r_.text(i); }

 private:
  const row& r_;
};

// A failure of the database. `code()` is conflict for a constraint
// violation (unique, foreign key, check), unavailable when the database is
// busy, full or unreachable, internal otherwise. what() is for logs only;
// a request that fails with one is answered by its code (503 for
// unavailable) with a message of its own.
class db_error : public internal_failure {
 public:
  using internal_failure::internal_failure;
};

// One connection inside one transaction. Blocking; used by one thread at a time.
class transaction {
 public:
  virtual ~transaction() = default;
  // Runs a statement; returns the number of rows it changed.
  virtual std::int64_t exec(std::string_view sql, std::initializer_list<value> params = {}) = 0;
  virtual std::vector<row> query(std::string_view sql, std::initializer_list<value> params = {}) = 0;
  std::optional<row> query_one(std::string_view sql, std::initializer_list<value> params = {}) {
    auto rows = query(sql, params);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  // As query, calling `fn` with each row in turn instead of returning them:
  // for a hot list, whose rows go straight into the values made of them. The
  // default goes through query; a backend reads its result in place.
  virtual void query_each(std::string_view sql, std::initializer_list<value> params,
                          const std::function<void(const row_view&)>& fn);

  // The dialect of taking a row for oneself (a job claim). True when write
  // transactions run side by side and lock rows one at a time (PostgreSQL):
  // the statement that picks the row must lock it and pass over rows other
  // transactions hold (`SELECT ... FOR UPDATE SKIP LOCKED`). False when write
  // transactions run one at a time and there are no row locks (SQLite's
  // BEGIN IMMEDIATE), where that clause does not exist.
  virtual bool locks_rows() const noexcept { return false; }

  // Sends a notification on `channel` to the listeners of every process
  // (database::listen), delivered when this transaction commits and never
  // if it rolls back. A backend without listeners does nothing (SQLite: one
  // process, which wakes its own waiters directly).
  virtual void notify(std::string_view /*channel*/) {}
};

// Hears the notifications sent on one channel (transaction::notify) by any
// process, on a connection of its own.
class listener {
 public:
  virtual ~listener() = default;
  // Starts listening. `on_notify` then runs on the loop (the executor given
  // to database::listen) soon after each commit that notified the channel
  // (several close together may make one call), and once each time the
  // listener has (re)connected, since whatever was sent while it was not
  // listening is lost. Never blocks the loop: the connection lives in a
  // thread of its own, which reconnects with backoff when it is lost. Call once.
  virtual void start(std::function<void()> on_notify) = 0;
  // Stops: `on_notify` is not called after this returns. Call it on the
  // loop thread. Does not wait for the connection to close (the destructor
  // does). Idempotent.
  virtual void stop() = 0;
};

class database {
 public:
  virtual ~database() = default;
  // Blocking: call on the thread pool. Runs `fn` in a transaction (`write`
  // takes the write lock up front); commits when fn returns, rolls back and
  // rethrows when it throws.
  virtual void transact(bool write, const std::function<void(transaction&)>& fn) = 0;
  // Blocking: call on the thread pool. Runs `fn`, which reads with one
  // statement (transaction::query, once), as that statement alone: the
  // statement is its own transaction (the database's autocommit), which for
  // one read is what BEGIN, it, COMMIT would be, without their round trips
  // (PostgreSQL) or their parsing (SQLite). A second statement, or exec or
  // notify, throws db_error(internal): a read of several statements, or any
  // write, uses transact. The default is transact(false, fn) with the same check.
  virtual void read_statement(const std::function<void(transaction&)>& fn);
  virtual std::string_view backend() const noexcept = 0;
  // A listener of `channel` whose callbacks run on `loop`, not yet started;
  // nullptr when the backend has none (SQLite: every transaction that
  // notifies runs in the process that waits).
  virtual std::unique_ptr<listener> listen(std::string_view /*channel*/, boost::asio::any_io_executor /*loop*/) {
    return nullptr;
  }
};

// The transaction a read_statement's `fn` sees: it forwards one query to
// `inner` and refuses anything more (db_error(internal)).
class single_read final : public transaction {
 public:
  explicit single_read(transaction& inner) : inner_(inner) {}
  std::int64_t exec(std::string_view sql, std::initializer_list<value> params = {}) override;
  std::vector<row> query(std::string_view sql, std::initializer_list<value> params = {}) override;
  void query_each(std::string_view sql, std::initializer_list<value> params,
                  const std::function<void(const row_view&)>& fn) override;
  bool locks_rows() const noexcept override { return inner_.locks_rows(); }
  void notify(std::string_view channel) override;

 private:
  void use(std::string_view sql);
  transaction& inner_;
  bool used_ = false;
};

// Opens the database named by `url`: empty for the SQLite file
// `data_dir`/reel.db, sqlite:///path, or postgres:// and postgresql:// (a
// pool of `connections` connections). Throws db_error (unavailable) when it
// cannot, with the reason in what(). `statement_timeout` (PostgreSQL): a
// statement running longer is cancelled and fails with db_error(unavailable).
std::unique_ptr<database> open_database(const std::string& url, const std::string& data_dir, unsigned connections,
                                        std::chrono::milliseconds statement_timeout = std::chrono::seconds(30));

// True for a URL open_database() opens with the PostgreSQL backend.
inline bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

// The bridge from the loop to the database: runs database work on the thread
// pool inside a transaction and resumes on the loop with its result.
class gateway {
 public:
  gateway(worker_pool& pool, database& database) : pool_(pool), database_(database) {}

  // `fn(transaction&)` in a read transaction. Same rule as offload: pass a named
  // lambda or one that captures only by reference, awaited at once.
  template <class F>
  auto read(F&& fn) -> boost::asio::awaitable<std::invoke_result_t<F&, transaction&>> {
    return run(false, fn);
  }
  template <class F>
  auto write(F&& fn) -> boost::asio::awaitable<std::invoke_result_t<F&, transaction&>> {
    return run(true, fn);
  }
  // `fn(transaction&)` as one read statement (database::read_statement):
  // for a hot read that is a single query (a page of a list).
  template <class F>
  auto read_statement(F&& fn) -> boost::asio::awaitable<std::invoke_result_t<F&, transaction&>> {
    using R = std::invoke_result_t<F&, transaction&>;
    auto job = [this, &fn] {
      std::optional<R> out;
      database_.read_statement([&fn, &out](transaction& s) { out.emplace(fn(s)); });
      return std::move(*out);
    };
    co_return co_await pool_.offload(job);
  }
  database& raw() noexcept { return database_; }
  worker_pool& pool() noexcept { return pool_; }

  // When a transaction fails because the volume is full (db_error with
  // insufficient_storage), `make_room` is called on the pool; when it
  // returns true (it freed space: the data directory's ballast file), the
  // transaction runs once more. Set it before the first call; it must be
  // thread-safe.
  void on_storage_full(std::function<bool()> make_room) { make_room_ = std::move(make_room); }

 private:
  template <class F>
  auto run(bool write, F& fn) -> boost::asio::awaitable<std::invoke_result_t<F&, transaction&>> {
    using R = std::invoke_result_t<F&, transaction&>;
    if constexpr (std::is_void_v<R>) {
      auto job = [this, write, &fn] { transact(write, [&fn](transaction& s) { fn(s); }); };
      co_await pool_.offload(job);
    } else {
      auto job = [this, write, &fn] {
        std::optional<R> out;
        transact(write, [&fn, &out](transaction& s) { out.emplace(fn(s)); });
        return std::move(*out);
      };
      co_return co_await pool_.offload(job);
    }
  }
  // database_.transact, once more after make_room_ freed space. Blocking.
  void transact(bool write, const std::function<void(transaction&)>& body);

  worker_pool& pool_;
  database& database_;
  std::function<bool()> make_room_;
};

}  // namespace reel::db
