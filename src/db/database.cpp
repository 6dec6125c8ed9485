#include "db/database.hpp"

#include "db/postgres.hpp"
#include "db/sqlite.hpp"

namespace reel::db {

void column_mismatch(std::size_t i, const char* want) {
  throw db_error(errc::internal, "column " + std::to_string(i) + " is not " + want);
}

std::int64_t row::int64(std::size_t i) const {
  const auto& v = cols_.at(i).get();
  if (auto* p = std::get_if<std::int64_t>(&v)) return *p;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  column_mismatch(i, "an integer");
}

double row::real(std::size_t i) const {
  const auto& v = cols_.at(i).get();
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  column_mismatch(i, "a number");
}

const std::string& row::text(std::size_t i) const {
  const auto& v = cols_.at(i).get();
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  column_mismatch(i, "text");
}

std::string row::take_text(std::size_t i) {
  auto* s = std::get_if<std::string>(&cols_.at(i).get());
  if (!s) column_mismatch(i, "text");
  return std::move(*s);
}

std::optional<std::string> row::take_opt_text(std::size_t i) {
  if (is_null(i)) return std::nullopt;
  return take_text(i);
}

std::optional<std::string> row::opt_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::optional<std::int64_t> row::opt_int64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return int64(i);
}

std::optional<double> row::opt_real(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return real(i);
}

std::optional<std::string_view> row_view::opt_view(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return text(i);
}

std::optional<std::string> row_view::opt_text(std::size_t i) const {
  auto v = opt_view(i);
  if (!v) return std::nullopt;
  return std::string(*v);
}

void row_view::read_text(std::size_t i, std::string& into) const {
  std::string_view v = text(i);
  into.assign(v.data(), v.size());
}

void row_view::read_opt_text(std::size_t i, std::optional<std::string>& into) const {
  auto v = opt_view(i);
  if (!v)
    into.reset();
  else if (into)
    into->assign(v->data(), v->size());
  else
    into.emplace(*v);
}

std::optional<std::int64_t> row_view::opt_int64(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return int64(i);
}

std::optional<double> row_view::opt_real(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return real(i);
}

void transaction::query_each(std::string_view sql, std::initializer_list<value> params,
                             const std::function<void(const row_view&)>& fn) {
  for (const row& r : query(sql, params)) fn(row_ref(r));
}

std::int64_t single_read::exec(std::string_view sql, std::initializer_list<value>) {
  throw db_error(errc::internal,
                 "a single-statement read cannot run exec (in: " + std::string(sql.substr(0, 80)) + ")");
}

void single_read::use(std::string_view sql) {
  if (used_)
    throw db_error(errc::internal,
                   "a single-statement read ran a second statement (in: " + std::string(sql.substr(0, 80)) + ")");
  used_ = true;
}

std::vector<row> single_read::query(std::string_view sql, std::initializer_list<value> params) {
  use(sql);
  return inner_.query(sql, params);
}

void single_read::query_each(std::string_view sql, std::initializer_list<value> params,
                             const std::function<void(const row_view&)>& fn) {
  use(sql);
  inner_.query_each(sql, params, fn);
}

void single_read::notify(std::string_view) { throw db_error(errc::internal, "a single-statement read cannot notify"); }

void database::read_statement(const std::function<void(transaction&)>& fn) {
  transact(false, [&fn](transaction& s) {
    single_read one(s);
    fn(one);
  });
}

std::unique_ptr<database> open_database(const std::string& url, const std::string& data_dir, unsigned connections,
                                        std::chrono::milliseconds statement_timeout) {
  if (url.empty()) return std::make_unique<sqlite_database>(data_dir + "/reel.db", connections);
  if (url.starts_with("sqlite://")) {
    std::string path = url.substr(9);
    if (path.empty()) throw db_error(errc::unavailable, "the sqlite:// URL names no file");
    return std::make_unique<sqlite_database>(path, connections);
  }
  if (is_postgres_url(url))
    return std::make_unique<postgres_database>(
        url, postgres_settings{.connections = connections, .statement_timeout = statement_timeout});
  throw db_error(errc::unavailable, "the database URL must start with sqlite://, postgres:// or postgresql://");
}

void gateway::transact(bool write, const std::function<void(transaction&)>& body) {
  try {
    database_.transact(write, body);
    return;
  } catch (const db_error& e) {
    if (e.code() != errc::insufficient_storage || !make_room_ || !make_room_()) throw;
  }
  database_.transact(write, body);  // the transaction rolled back; with the room freed, once more
}

}  // namespace reel::db
