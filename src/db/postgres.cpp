#include "db/postgres.hpp"

#include "core/log.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>
#include <unordered_map>

namespace reel::db {

namespace {

// Type OIDs of the results reel reads (catalog/pg_type_d.h, which libpq-dev does not ship).
constexpr Oid k_bool = 16, k_int8 = 20, k_int2 = 21, k_int4 = 23, k_oid = 26, k_float4 = 700, k_float8 = 701,
              k_numeric = 1700;

// A notification with no payload, sent when the transaction commits.
constexpr const char* k_notify = "SELECT pg_notify(?, '')";

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

// What a failure means to reel, from its SQLSTATE.
errc classify_state(std::string_view state) {
  if (state.starts_with("23")) return errc::conflict;       // integrity constraint violation
  if (state.starts_with("08")) return errc::unavailable;    // connection exception
  if (state == "53100") return errc::insufficient_storage;  // disk_full: SQLite's FULL
  if (state.starts_with("53")) return errc::unavailable;    // out of connections or memory
  if (state == "57P01" || state == "57P02" || state == "57P03") return errc::unavailable;  // shutting down, starting
  if (state == "57014") return errc::unavailable;                                          // statement timeout
  // Serialization failure, deadlock, lock not available: SQLite's BUSY.
  if (state == "40001" || state == "40P01" || state == "55P03") return errc::unavailable;
  return errc::internal;
}

// libpq's messages span lines ("...\n\tIs the server running...?\n"): one line for logs.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The password a connection string carries (URI user:password@ or
// password=), to keep it out of messages even where libpq would quote it.
std::string password_in(std::string_view url) {
  if (auto p = url.find("password="); p != std::string_view::npos) {
    auto v = url.substr(p + 9);
    return std::string(v.substr(0, v.find_first_of("& ")));
  }
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?"));
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  auto userinfo = authority.substr(0, at);
  auto colon = userinfo.find(':');
  return colon == std::string_view::npos ? std::string() : std::string(userinfo.substr(colon + 1));
}

std::string redact(std::string text, const std::string& password) {
  if (password.empty()) return text;
  for (auto p = text.find(password); p != std::string::npos; p = text.find(password, p + 3))
    text.replace(p, password.size(), "***");
  return text;
}

// Why a connection attempt failed, without libpq's "connection to server at
// ... failed:" preamble (the caller names the server) and severity.
std::string connect_cause(const char* message) {
  std::string_view m = message ? message : "";
  m = m.substr(0, m.find('\n'));
  if (auto p = m.find("failed: "); p != std::string_view::npos) m = m.substr(p + 8);
  if (m.starts_with("FATAL:")) m.remove_prefix(6);
  std::string out = one_line(m);
  while (!out.empty() && out.front() == ' ') out.erase(0, 1);
  return out.empty() ? one_line(message ? message : "unknown error") : out;
}

// Parameters in text form with their types: integers as int8, doubles as
// float8, text and NULL as unknown so that the server types them from where
// they stand, as it types a literal.
struct bound {
  explicit bound(std::initializer_list<value> params) {
    text.reserve(params.size());
    for (const auto& p : params) {
      values.push_back(nullptr);
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              text.emplace_back();
              types.push_back(0);
            } else if constexpr (std::is_same_v<T, std::string>) {
              text.push_back(v);
              types.push_back(0);
            } else {
              char buf[32];
              auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
              text.emplace_back(buf, end);
              types.push_back(std::is_same_v<T, double> ? k_float8 : k_int8);
            }
          },
          p.get());
    }
    std::size_t i = 0;
    for (const auto& p : params) {
      if (!p.is_null()) values[i] = text[i].c_str();
      ++i;
    }
  }
  int size() const { return static_cast<int>(values.size()); }

  std::vector<std::string> text;
  std::vector<const char*> values;
  std::vector<Oid> types;
};

// How a column's type reads: integers, booleans (read as 0 or 1), reals
// (the float and numeric types), and text for the rest.
enum class column_kind { integer, boolean, real, text };

column_kind column_kind_of(Oid type) {
  switch (type) {
    case k_int2:
    case k_int4:
    case k_int8:
    case k_oid:
      return column_kind::integer;
    case k_bool:
      return column_kind::boolean;
    case k_float4:
    case k_float8:
    case k_numeric:
      return column_kind::real;
    default:
      return column_kind::text;
  }
}

std::int64_t parse_integer(const char* p, const char* end) {
  std::int64_t v = 0;
  std::from_chars(p, end, v);
  return v;
}

double parse_real(const char* p, const char* end) {
  double v = 0;
  std::from_chars(p, end, v);
  return v;
}

// Row `row` of a result, read in place with read_column's types.
class result_row final : public row_view {
 public:
  result_row(const PGresult* r, int row) : r_(r), row_(row) {}
  bool is_null(std::size_t i) const override { return PQgetisnull(r_, row_, col(i)) != 0; }
  std::int64_t int64(std::size_t i) const override {
    int c = col(i);
    auto kind = column_kind_of(PQftype(r_, c));
    if (kind == column_kind::text || PQgetisnull(r_, row_, c)) column_mismatch(i, "an integer");
    auto [p, end] = bytes(c);
    if (kind == column_kind::boolean) return *p == 't' ? 1 : 0;
    if (kind == column_kind::real) return static_cast<std::int64_t>(parse_real(p, end));
    return parse_integer(p, end);
  }
  double real(std::size_t i) const override {
    int c = col(i);
    auto kind = column_kind_of(PQftype(r_, c));
    if (kind == column_kind::text || PQgetisnull(r_, row_, c)) column_mismatch(i, "a number");
    if (kind != column_kind::real) return static_cast<double>(int64(i));
    auto [p, end] = bytes(c);
    return parse_real(p, end);
  }
  std::string_view text(std::size_t i) const override {
    int c = col(i);
    if (column_kind_of(PQftype(r_, c)) != column_kind::text || PQgetisnull(r_, row_, c)) column_mismatch(i, "text");
    auto [p, end] = bytes(c);
    return {p, static_cast<std::size_t>(end - p)};
  }

 private:
  int col(std::size_t i) const {
    if (i >= static_cast<std::size_t>(PQnfields(r_))) column_mismatch(i, "in the result");
    return static_cast<int>(i);
  }
  // The text of column `c` in this row.
  std::pair<const char*, const char*> bytes(int c) const {
    const char* p = PQgetvalue(r_, row_, c);
    return {p, p + PQgetlength(r_, row_, c)};
  }
  const PGresult* r_;
  int row_;
};

value read_column(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return nullptr;
  const char* p = PQgetvalue(r, row, col);
  const char* end = p + PQgetlength(r, row, col);
  switch (column_kind_of(PQftype(r, col))) {
    case column_kind::integer:
      return parse_integer(p, end);
    case column_kind::real:
      return parse_real(p, end);
    case column_kind::boolean:
      return std::int64_t(*p == 't' ? 1 : 0);
    case column_kind::text:
      break;
  }
  return std::string(p, end);
}

// The server's notices go to the log, not to stderr: warnings as warnings,
// the rest ("relation ... already exists, skipping") at debug level.
void log_notice(void*, const PGresult* r) {
  const char* severity = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  std::string message = one_line(PQresultErrorMessage(r));
  if (severity && std::string_view(severity) == "WARNING")
    log::warn("postgresql warning", {{"message", message}});
  else
    log::debug("postgresql notice", {{"message", message}});
}

// host:port (database db) of a connection, for messages.
std::string server_of(PGconn* conn) {
  std::string host = conn && PQhost(conn) ? PQhost(conn) : "";
  std::string port = conn && PQport(conn) ? PQport(conn) : "";
  std::string db = conn && PQdb(conn) ? PQdb(conn) : "";
  return (host.empty() ? std::string("the default socket") : host) + (port.empty() ? "" : ":" + port) +
         (db.empty() ? "" : " (database " + db + ")");
}

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace

std::string number_placeholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  auto copy_through = [&](std::size_t& i, std::string_view close) {
    auto end = sql.find(close, i + 1);
    end = end == std::string_view::npos ? sql.size() : end + close.size();
    out.append(sql.substr(i, end - i));
    i = end - 1;
  };
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"')  // text or identifier; a doubled quote closes and reopens
      copy_through(i, std::string_view(&sql[i], 1));
    else if (c == '-' && sql.substr(i).starts_with("--"))
      copy_through(i, "\n");
    else if (c == '/' && sql.substr(i).starts_with("/*"))
      copy_through(i, "*/");
    else if (c == '?')
      out += "$" + std::to_string(++n);
    else
      out += c;
  }
  if (count) *count = n;
  return out;
}

class postgres_database::connection final : public transaction {
 public:
  explicit connection(PGconn* conn) : conn_(conn) {}
  ~connection() override { PQfinish(conn_); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  bool usable() const { return PQstatus(conn_) == CONNECTION_OK; }
  PGconn* native() const { return conn_; }

  // A command without parameters (BEGIN, COMMIT, SET), by the simple protocol.
  result_ptr command(const char* sql) {
    result_ptr r(PQexec(conn_, sql));
    check(r.get(), sql);
    return r;
  }

  // BEGIN, forgetting the last transaction's failure.
  void begin() {
    failed_.reset();
    command("BEGIN");
  }
  // Forgets the last transaction's failure, for statements without BEGIN.
  void forget_failure() { failed_.reset(); }
  // The code of the first statement that failed in this transaction, if one did.
  std::optional<errc> failed() const { return failed_; }

  std::int64_t exec(std::string_view sql, std::initializer_list<value> params) override {
    auto r = run(sql, params);
    const char* n = PQcmdTuples(r.get());
    std::int64_t changed = 0;
    std::from_chars(n, n + std::strlen(n), changed);
    return changed;
  }

  bool locks_rows() const noexcept override { return true; }

  void notify(std::string_view channel) override { exec(k_notify, {channel}); }

  std::vector<row> query(std::string_view sql, std::initializer_list<value> params) override {
    auto r = run(sql, params);
    int rows = PQntuples(r.get()), cols = PQnfields(r.get());
    std::vector<row> out;
    out.reserve(rows);
    for (int i = 0; i < rows; ++i) {
      std::vector<value> v;
      v.reserve(cols);
      for (int j = 0; j < cols; ++j) v.push_back(read_column(r.get(), i, j));
      out.emplace_back(std::move(v));
    }
    return out;
  }

  void query_each(std::string_view sql, std::initializer_list<value> params,
                  const std::function<void(const row_view&)>& fn) override {
    auto r = run(sql, params);
    for (int i = 0, rows = PQntuples(r.get()); i < rows; ++i) fn(result_row(r.get(), i));
  }

 private:
  result_ptr run(std::string_view sql, std::initializer_list<value> params) {
    bound b(params);
    const std::string& name = prepare(sql, b);
    result_ptr r(PQexecPrepared(conn_, name.c_str(), b.size(), b.values.data(), nullptr, nullptr, 0));
    check(r.get(), sql);
    return r;
  }

  // The statement's name on this connection, prepared on first use with the
  // types of the first call's parameters (NULL: the server infers it).
  const std::string& prepare(std::string_view sql, const bound& b) {
    if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
    int n = 0;
    std::string text = number_placeholders(sql, &n);
    if (n != b.size())
      throw db_error(errc::internal, "the statement has " + std::to_string(n) + " placeholders and " +
                                         std::to_string(b.size()) +
                                         " parameters (in: " + std::string(sql.substr(0, 80)) + ")");
    std::string name = "reel_" + std::to_string(prepared_.size() + 1);
    result_ptr r(PQprepare(conn_, name.c_str(), text.c_str(), n, b.types.data()));
    check(r.get(), sql);
    return prepared_.emplace(std::string(sql), std::move(name)).first->second;
  }

  void check(const PGresult* r, std::string_view sql) {
    auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    // A lost connection is unavailable whatever the server said last (57P01 or nothing).
    errc code = !usable() ? errc::unavailable : classify_state(state ? state : "");
    if (!failed_) failed_ = code;
    std::string message = one_line(r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    if (!usable()) message = "the connection to PostgreSQL was lost: " + message;
    throw db_error(code, message + " (in: " + std::string(sql.substr(0, 80)) + ")");
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> prepared_;
  std::optional<errc> failed_;
};

postgres_database::postgres_database(const std::string& url, postgres_settings settings)
    : url_(url), settings_(settings) {
  settings_.connections = std::max(1u, settings_.connections);
  char* problem = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &problem);
  if (!options) {
    std::string why = problem ? one_line(problem) : "out of memory";
    PQfreemem(problem);
    throw db_error(errc::unavailable, "the PostgreSQL URL is not valid: " + redact(why, password_in(url)));
  }
  PQconninfoFree(options);
  idle_.push_back(connect());
  open_ = 1;
}

postgres_database::~postgres_database() = default;

std::unique_ptr<postgres_database::connection> postgres_database::connect() const {
  // Defaults first: the URL's own settings override them.
  std::string timeout = std::to_string(settings_.connect_timeout.count());
  const char* keys[] = {"connect_timeout", "fallback_application_name", "client_encoding", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "reel", "UTF8", url_.c_str(), nullptr};
  auto c = std::make_unique<connection>(PQconnectdbParams(keys, values, 1));
  PGconn* conn = c->native();
  if (conn) PQsetNoticeReceiver(conn, log_notice, nullptr);
  auto server = [conn] { return server_of(conn); };
  if (PQstatus(conn) != CONNECTION_OK)
    throw db_error(errc::unavailable, "cannot connect to PostgreSQL at " + server() + ": " +
                                          redact(connect_cause(PQerrorMessage(conn)), password_in(url_)));
  if (int version = PQserverVersion(conn); version < 130000)
    throw db_error(errc::unavailable, "the server at " + server() + " runs PostgreSQL " +
                                          std::to_string(version / 10000) + "; reel needs PostgreSQL 13 or newer");
  std::string set_timeout = "SET statement_timeout = " + std::to_string(settings_.statement_timeout.count());
  c->command(set_timeout.c_str());
  return c;
}

std::unique_ptr<postgres_database::connection> postgres_database::acquire() {
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [this] { return !idle_.empty() || open_ < settings_.connections; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
  }
  try {
    return connect();
  } catch (...) {
    release(nullptr);
    throw;
  }
}

void postgres_database::release(std::unique_ptr<connection> c) {
  {
    std::lock_guard lock(mutex_);
    if (c && c->usable())
      idle_.push_back(std::move(c));
    else
      --open_;
  }
  available_.notify_one();
}

void postgres_database::begin(std::unique_ptr<connection>& c) {
  try {
    c->begin();
    return;
  } catch (const db_error&) {
    if (c->usable()) throw;
  }
  // Closed while it sat in the pool (the server restarted, or dropped an
  // idle session): nothing has been done on it yet, so a new one takes its place.
  c.reset();
  c = connect();
  c->begin();
}

void postgres_database::transact(bool /*write*/, const std::function<void(transaction&)>& fn) {
  std::unique_ptr<connection> c = acquire();
  struct releaser {
    postgres_database* self;
    std::unique_ptr<connection>& c;
    ~releaser() { self->release(std::move(c)); }
  } guard{this, c};
  begin(c);
  try {
    fn(*c);
  } catch (...) {
    if (c->usable()) {
      try {
        c->command("ROLLBACK");
      } catch (...) {
      }
    }
    throw;
  }
  auto r = c->command("COMMIT");
  // COMMIT of a transaction a failed statement aborted rolls back instead
  // (fn caught that statement's db_error and went on): never a silent loss.
  if (std::string_view(PQcmdStatus(r.get())) == "ROLLBACK")
    throw db_error(c->failed().value_or(errc::internal),
                   "the transaction was rolled back: a statement in it had failed");
}

void postgres_database::read_alone(connection& c, const std::function<void(transaction&)>& fn) {
  c.forget_failure();
  single_read one(c);
  fn(one);
  // fn caught its statement's db_error and went on: never a silent half answer.
  if (auto failed = c.failed()) throw db_error(*failed, "the read's statement had failed");
}

void postgres_database::read_statement(const std::function<void(transaction&)>& fn) {
  std::unique_ptr<connection> c = acquire();
  struct releaser {
    postgres_database* self;
    std::unique_ptr<connection>& c;
    ~releaser() { self->release(std::move(c)); }
  } guard{this, c};
  try {
    read_alone(*c, fn);
    return;
  } catch (const db_error&) {
    if (c->usable()) throw;
  }
  // Lost: closed while it sat in the pool, or during the read, which changed
  // nothing. A new connection takes its place, for one more try.
  c.reset();
  c = connect();
  read_alone(*c, fn);
}

namespace {

struct connection_deleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using connection_ptr = std::unique_ptr<PGconn, connection_deleter>;

// LISTEN on one channel, on a connection of its own, in a thread of its own
// (db::listener). The thread blocks only in poll(2), on the connection's
// socket and on an eventfd that stop() makes readable, so that it always
// stops at once; libpq is used in its asynchronous form (PQconnectStart,
// PQsendQuery, PQconsumeInput) between polls.
class postgres_listener final : public listener {
 public:
  postgres_listener(std::string url, std::string channel, std::chrono::seconds connect_timeout,
                    boost::asio::any_io_executor loop)
      : url_(std::move(url)),
        channel_(std::move(channel)),
        connect_timeout_(connect_timeout),
        loop_(std::move(loop)),
        wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (wake_ < 0) throw db_error(errc::internal, std::string("eventfd failed: ") + std::strerror(errno));
  }
  ~postgres_listener() override {
    stop();
    if (thread_.joinable()) thread_.join();
    ::close(wake_);
  }
  postgres_listener(const postgres_listener&) = delete;
  postgres_listener& operator=(const postgres_listener&) = delete;

  void start(std::function<void()> on_notify) override {
    if (thread_.joinable() || stopping_) return;
    callback_->on_notify = std::move(on_notify);
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    callback_->on_notify = nullptr;
    if (stopping_.exchange(true)) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
  }

 private:
  using clock = std::chrono::steady_clock;
  enum class woken { ready, stopping, timed_out };

  // Shared with the handlers posted to the loop, which may outlive this object.
  struct callback {
    std::function<void()> on_notify;  // read and written on the loop thread only
    std::atomic<bool> posted{false};  // a call is on its way: notifications meanwhile join it
  };

  void run();
  connection_ptr connect_and_listen();
  std::string wait_for_notifications(PGconn* c);
  woken wait(int fd, short events, std::optional<clock::time_point> deadline) const;
  void deliver();
  [[noreturn]] void fail(PGconn* c, const char* message) const {
    throw db_error(errc::unavailable, "cannot connect to PostgreSQL at " + server_of(c) + ": " +
                                          redact(connect_cause(message), password_in(url_)));
  }

  std::string url_, channel_;
  std::chrono::seconds connect_timeout_;
  boost::asio::any_io_executor loop_;
  int wake_;  // an eventfd, readable once stop() has been called
  std::atomic<bool> stopping_{false};
  std::shared_ptr<callback> callback_ = std::make_shared<callback>();
  std::thread thread_;
};

void postgres_listener::run() {
  constexpr std::chrono::milliseconds first_backoff{250}, longest_backoff{10'000};
  auto backoff = first_backoff;
  bool connected_before = false;
  while (!stopping_) {
    std::string problem;
    connection_ptr c;
    try {
      c = connect_and_listen();
    } catch (const db_error& e) {
      problem = e.what();
    }
    if (stopping_) break;
    if (c) {
      log::info(connected_before ? "listening for notifications again" : "listening for notifications",
                {{"channel", channel_}, {"server", server_of(c.get())}});
      connected_before = true;
      backoff = first_backoff;
      deliver();  // whatever was sent while no one listened
      problem = wait_for_notifications(c.get());
      if (stopping_) break;
      log::warn("the listener lost its connection to PostgreSQL; reconnecting",
                {{"channel", channel_}, {"error", problem}});
    } else {
      log::warn("the listener cannot connect to PostgreSQL; retrying",
                {{"channel", channel_}, {"error", problem}, {"retry_in_ms", backoff.count()}});
    }
    c.reset();
    if (wait(-1, 0, clock::now() + backoff) == woken::stopping) break;
    backoff = std::min(backoff * 2, longest_backoff);
  }
}

connection_ptr postgres_listener::connect_and_listen() {
  // Defaults first: the URL's own settings override them. Keepalives notice
  // a server that vanished without closing the connection (TCP only).
  const char* keys[] = {"fallback_application_name",
                        "client_encoding",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "dbname",
                        nullptr};
  const char* values[] = {"reel listener", "UTF8", "30", "10", "3", url_.c_str(), nullptr};
  connection_ptr c(PQconnectStartParams(keys, values, 1));
  if (!c) throw db_error(errc::unavailable, "cannot connect to PostgreSQL: out of memory");
  PQsetNoticeReceiver(c.get(), log_notice, nullptr);
  auto deadline = clock::now() + connect_timeout_;
  auto timed_out = [&] { fail(c.get(), "timeout expired"); };
  // As libpq's manual says: poll for writing first, then as PQconnectPoll asks.
  for (auto status = PGRES_POLLING_WRITING; status != PGRES_POLLING_OK; status = PQconnectPoll(c.get())) {
    if (status == PGRES_POLLING_FAILED || PQstatus(c.get()) == CONNECTION_BAD) fail(c.get(), PQerrorMessage(c.get()));
    auto w = wait(PQsocket(c.get()), status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
    if (w == woken::stopping) return nullptr;
    if (w == woken::timed_out) timed_out();
  }
  char* name = PQescapeIdentifier(c.get(), channel_.data(), channel_.size());
  if (!name) fail(c.get(), PQerrorMessage(c.get()));
  std::string sql = std::string("LISTEN ") + name;
  PQfreemem(name);
  if (!PQsendQuery(c.get(), sql.c_str())) fail(c.get(), PQerrorMessage(c.get()));
  std::string refused;
  for (;;) {
    while (PQisBusy(c.get())) {
      auto w = wait(PQsocket(c.get()), POLLIN, deadline);
      if (w == woken::stopping) return nullptr;
      if (w == woken::timed_out) timed_out();
      if (!PQconsumeInput(c.get())) fail(c.get(), PQerrorMessage(c.get()));
    }
    result_ptr r(PQgetResult(c.get()));
    if (!r) break;
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) refused = one_line(PQresultErrorMessage(r.get()));
  }
  if (!refused.empty()) throw db_error(errc::internal, sql + " failed: " + refused);
  return c;
}

// Returns why the connection was lost, or "" when stopping.
std::string postgres_listener::wait_for_notifications(PGconn* c) {
  for (;;) {
    if (wait(PQsocket(c), POLLIN, std::nullopt) == woken::stopping) return {};
    if (!PQconsumeInput(c)) return one_line(PQerrorMessage(c));
    bool heard = false;
    while (PGnotify* n = PQnotifies(c)) {
      heard = true;
      PQfreemem(n);
    }
    if (heard) deliver();
    if (PQstatus(c) != CONNECTION_OK) return one_line(PQerrorMessage(c));
  }
}

// Waits until `fd` (none when -1) is ready for `events`, stop() is called or
// `deadline` passes.
postgres_listener::woken postgres_listener::wait(int fd, short events,
                                                 std::optional<clock::time_point> deadline) const {
  for (;;) {
    if (stopping_) return woken::stopping;
    int timeout = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - clock::now()).count();
      if (left <= 0) return woken::timed_out;
      timeout = static_cast<int>(std::min<decltype(left)>(left, 60'000));
    }
    pollfd fds[2] = {{wake_, POLLIN, 0}, {fd, events, 0}};
    int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (fds[0].revents) return woken::stopping;
    if (n < 0 || (fd >= 0 && fds[1].revents)) return woken::ready;  // errors surface in libpq's next call
  }
}

void postgres_listener::deliver() {
  if (callback_->posted.exchange(true)) return;
  boost::asio::post(loop_, [cb = callback_] {
    cb->posted = false;
    if (cb->on_notify) cb->on_notify();
  });
}

}  // namespace

std::unique_ptr<listener> postgres_database::listen(std::string_view channel, boost::asio::any_io_executor loop) {
  return std::make_unique<postgres_listener>(url_, std::string(channel), settings_.connect_timeout, std::move(loop));
}

}  // namespace reel::db
