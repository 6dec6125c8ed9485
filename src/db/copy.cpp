#include "db/copy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>
#include <utility>

namespace reel::db {

namespace {

// A table, and the key its rows are read in the order of (and paged by).
struct table_spec {
  const char* name;
  const char* order_key;
  std::int64_t page_rows = 1000;  // read from the source at a time: memory stays flat
};

// Parents before children (the foreign keys). Memberships by rowid, the
// order they were added in (lists break created_at ties with it); the
// others by their primary key.
// A key of two columns ("video_id,day") pages by their values joined with '|'.
constexpr table_spec k_tables[] = {
    {"users", "id"},
    {"organizations", "id"},
    {"memberships", "rowid"},
    {"sessions", "id"},
    {"videos", "id"},
    {"jobs", "id"},
    {"uploads", "id"},
    {"password_resets", "id"},
    {"invitations", "id"},
    {"api_keys", "id"},
    {"server_secrets", "name"},
    {"video_view_days", "video_id,day"},
    {"captions", "video_id,language", 8},  // rows of up to a few MiB each
    {"webhook_endpoints", "id"},
    {"webhook_messages", "id"},
    {"webhook_deliveries", "id"},
};

// Parameters in one INSERT at most. transaction::exec binds an
// initializer_list, whose length is fixed where it is written, so each count
// up to this one has its own instantiation of exec_bound (a table of them).
constexpr std::size_t k_max_parameters = 128;

constexpr const char* k_sqlite_columns = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid";
// Without identity columns (PostgreSQL's memberships.rowid): the target numbers those itself.
constexpr const char* k_postgres_columns =
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND "
    "table_name = ? AND is_identity = 'NO' ORDER BY ordinal_position";
constexpr const char* k_schema_version = "SELECT MAX(version) FROM schema_migrations";

enum class kind { integer, real, text };

struct column {
  std::string name;
  kind type;
  bool operator==(const column&) const = default;
};

// One end of the copy: a transaction and the backend it runs on.
struct side {
  transaction& s;
  std::string_view backend;
  std::string_view role;  // "source" or "target", for messages
};

// The kind of value a declared type holds, by SQLite's affinity rules, which
// read PostgreSQL's names (bigint, double precision, text) alike.
std::optional<kind> kind_of(std::string type) {
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto has = [&](const char* part) { return type.find(part) != std::string::npos; };
  if (has("INT")) return kind::integer;
  if (has("CHAR") || has("CLOB") || has("TEXT")) return kind::text;
  if (has("REAL") || has("FLOA") || has("DOUB")) return kind::real;
  return std::nullopt;
}

// Names go into SQL text (quoted): only plain ones are taken.
bool plain_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

// The table's columns in their order; empty when there is no such table.
std::vector<column> columns_of(const side& d, std::string_view table) {
  const char* sql = d.backend == "postgresql" ? k_postgres_columns : k_sqlite_columns;
  std::vector<column> out;
  for (const auto& r : d.s.query(sql, {table})) {
    auto type = kind_of(r.text(1));
    if (!plain_name(r.text(0)) || !type)
      throw db_error(errc::internal, "the column " + std::string(table) + "." + r.text(0) + " of the " +
                                         std::string(d.role) + " database is of a type reel db copy does not know (" +
                                         r.text(1) + ")");
    out.push_back({r.text(0), *type});
  }
  return out;
}

// The columns both databases give `table`, in the source's order.
std::vector<column> shared_columns(const side& from, const side& to, std::string_view table) {
  auto source = columns_of(from, table);
  auto target = columns_of(to, table);
  if (source.empty()) throw db_error(errc::internal, "the source database has no table " + std::string(table));
  auto by_name = [](const column& a, const column& b) { return a.name < b.name; };
  auto a = source, b = target;
  std::sort(a.begin(), a.end(), by_name);
  std::sort(b.begin(), b.end(), by_name);
  if (a != b)
    throw db_error(errc::internal,
                   "the table " + std::string(table) + " has other columns in the source database than in the target");
  if (source.size() > k_max_parameters)
    throw db_error(errc::internal, "the table " + std::string(table) + " has too many columns to copy");
  return source;
}

std::int64_t version_of(const side& d) {
  if (columns_of(d, "schema_migrations").empty())
    throw db_error(errc::internal, "the " + std::string(d.role) +
                                       " database is not a reel database (it has no schema_migrations table)");
  return d.s.query_one(k_schema_version)->opt_int64(0).value_or(0);
}

// The source must hold the schema the target was just migrated to.
void require_same_version(const side& from, const side& to) {
  std::int64_t source = version_of(from), target = version_of(to);
  if (source < target)
    throw db_error(errc::internal, "the source database is at schema version " + std::to_string(source) +
                                       " and this reel's is " + std::to_string(target) +
                                       ": run `reel migrate` on it first");
  if (source > target)
    throw db_error(errc::internal, "the source database is at schema version " + std::to_string(source) +
                                       ", newer than this reel knows (" + std::to_string(target) +
                                       "): use a newer reel");
}

// Refuses a target with a row in any table. On PostgreSQL the tables are
// locked first (readers may go on, writers wait for the commit).
void require_empty(const side& to) {
  if (to.backend == "postgresql") {
    std::string lock = "LOCK TABLE ";
    for (const auto& t : k_tables) lock += std::string(&t == k_tables ? "" : ", ") + quoted(t.name);
    to.s.exec(lock + " IN EXCLUSIVE MODE");
  }
  for (const auto& t : k_tables) {
    std::string any = "SELECT 1 FROM " + quoted(t.name) + " LIMIT 1";
    if (to.s.query_one(any)) throw target_not_empty(t.name);
  }
}

// Column i of r as `k`; the row's accessors throw on a value of another type.
value read_as(const row& r, std::size_t i, kind k) {
  try {
    if (k == kind::real) return r.real(i);
    if (k == kind::integer) return r.int64(i);
    return r.text(i);
  } catch (const db_error&) {
    throw db_error(errc::internal, "holds a value of another type than its column's");
  }
}

// Column i of r, to bind as it is, read as its declared kind. Refuses a value
// the target could not hold exactly.
value cell(const row& r, std::size_t i, kind k) {
  if (r.is_null(i)) return nullptr;
  value v = read_as(r, i, k);
  if (k == kind::integer && r.real(i) != static_cast<double>(r.int64(i)))
    throw db_error(errc::internal, "holds a fraction in an integer column");
  if (k == kind::text && r.text(i).find('\0') != std::string::npos)
    throw db_error(errc::internal, "holds text with a NUL character, which PostgreSQL cannot store");
  return v;
}

// Runs `sql` with params[0..N) moved into the initializer_list exec takes.
template <std::size_t... I>
void exec_bound(transaction& s, std::string_view sql, std::vector<value>& params, std::index_sequence<I...>) {
  s.exec(sql, {std::move(params[I])...});
}
using exec_function = void (*)(transaction&, std::string_view, std::vector<value>&);
template <std::size_t N>
void exec_with_count(transaction& s, std::string_view sql, std::vector<value>& params) {
  exec_bound(s, sql, params, std::make_index_sequence<N>{});
}
template <std::size_t... N>
constexpr std::array<exec_function, sizeof...(N)> exec_functions(std::index_sequence<N...>) {
  return {&exec_with_count<N>...};
}
constexpr auto k_exec_by_count = exec_functions(std::make_index_sequence<k_max_parameters + 1>{});

// Rows of one table, written in INSERTs of as many whole rows as
// k_max_parameters allows.
class batch_insert {
 public:
  batch_insert(transaction& s, std::string_view table, const std::vector<column>& columns)
      : s_(s), rows_per_insert_(k_max_parameters / columns.size()) {
    head_ = "INSERT INTO " + quoted(table) + " (";
    for (const auto& c : columns) head_ += (&c == &columns.front() ? "" : ", ") + quoted(c.name);
    head_ += ") VALUES ";
    tuple_ = "(";
    for (std::size_t i = 0; i < columns.size(); ++i) tuple_ += i ? ", ?" : "?";
    tuple_ += ")";
  }

  void add(std::vector<value> row) {
    for (auto& v : row) pending_.push_back(std::move(v));
    if (++rows_ == rows_per_insert_) flush();
  }

  void flush() {
    if (rows_ == 0) return;
    std::string sql = head_;
    for (std::size_t i = 0; i < rows_; ++i) sql += (i ? ", " : "") + tuple_;
    k_exec_by_count[pending_.size()](s_, sql, pending_);
    pending_.clear();
    rows_ = 0;
  }

 private:
  transaction& s_;
  std::size_t rows_per_insert_;
  std::string head_, tuple_;  // "INSERT INTO t (a, b) VALUES ", "(?, ?)"
  std::vector<value> pending_;
  std::size_t rows_ = 0;
};

// The SQL of a table's order key: a column, or two joined with '|'.
std::string key_sql(const table_spec& t) {
  std::string_view k = t.order_key;
  auto comma = k.find(',');
  if (comma == std::string_view::npos) return quoted(std::string(k));
  return quoted(std::string(k.substr(0, comma))) + " || '|' || " + quoted(std::string(k.substr(comma + 1)));
}

std::string page_query(const table_spec& t, const std::vector<column>& columns, bool after) {
  std::string key = key_sql(t);
  std::string sql = "SELECT " + key;
  for (const auto& c : columns) sql += ", " + quoted(c.name);
  sql += " FROM " + quoted(t.name);
  if (after) sql += " WHERE " + key + " > ?";
  return sql + " ORDER BY " + key + " LIMIT ?";
}

// The values of a source row (its key first, then `columns`), to insert.
std::vector<value> values_of(const row& r, const table_spec& t, kind key_kind, const std::vector<column>& columns) {
  std::vector<value> out;
  out.reserve(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    try {
      out.push_back(cell(r, i + 1, columns[i].type));
    } catch (const db_error& e) {
      std::string key = key_kind == kind::integer ? std::to_string(r.int64(0)) : r.text(0);
      throw db_error(e.code(),
                     "the column " + columns[i].name + " of the row with " + t.order_key + " " + key + " " + e.what());
    }
  }
  return out;
}

std::int64_t copy_rows(const side& from, const side& to, const table_spec& t) {
  auto columns = shared_columns(from, to, t.name);
  kind key_kind = std::string_view(t.order_key) == "rowid" ? kind::integer : kind::text;
  std::string first = page_query(t, columns, false), next = page_query(t, columns, true);
  batch_insert out(to.s, t.name, columns);
  std::int64_t copied = 0;
  value last;
  for (;;) {
    auto page = copied == 0 ? from.s.query(first, {t.page_rows}) : from.s.query(next, {last, t.page_rows});
    for (const auto& r : page) out.add(values_of(r, t, key_kind, columns));
    copied += static_cast<std::int64_t>(page.size());
    if (static_cast<std::int64_t>(page.size()) < t.page_rows) break;
    last = cell(page.back(), 0, key_kind);
  }
  out.flush();
  return copied;
}

}  // namespace

target_not_empty::target_not_empty(const std::string& table)
    : db_error(errc::conflict, "the target database is not empty (its " + table +
                                   " table holds rows); reel db copy only copies into an empty database") {}

const std::vector<std::string>& installation_tables() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& t : k_tables) out.emplace_back(t.name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& transient_tables() {
  // Events are read within seconds; a viewer is remembered for 30 minutes
  // only, so that a view is not counted twice.
  static const std::vector<std::string> names = {"events", "video_viewers"};
  return names;
}

std::vector<copied_table> copy_installation(database& source, database& target) {
  std::vector<copied_table> counts;
  auto copy_into_target = [&](transaction& source_transaction) {
    target.transact(true, [&](transaction& target_transaction) {
      side from{source_transaction, source.backend(), "source"};
      side to{target_transaction, target.backend(), "target"};
      require_empty(to);
      require_same_version(from, to);
      counts.clear();
      for (const auto& t : k_tables) {
        try {
          counts.push_back({t.name, copy_rows(from, to, t)});
        } catch (const db_error& e) {
          throw db_error(e.code(), std::string("the table ") + t.name + " could not be copied: " + e.what());
        }
      }
    });
  };
  source.transact(false, copy_into_target);
  return counts;
}

}  // namespace reel::db
