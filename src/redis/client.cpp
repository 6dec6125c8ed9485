#include "redis/client.hpp"

#include "core/async.hpp"
#include "core/log.hpp"

#include <sys/un.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <deque>
#include <random>

namespace reel::redis {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// While a server stays unreachable, at most one warning per this long.
constexpr auto k_outage_warning_interval = std::chrono::seconds(60);

// ---- URLs ----------------------------------------------------------------

// The URL with its password replaced by ***, for messages.
std::string redact(std::string_view text) {
  std::string out(text);
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto start = scheme + 3;
    auto at = out.find('@', start);
    auto slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash || slash == start)) {
      auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    auto end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
  }
  return out;
}

class url_parser {
 public:
  explicit url_parser(std::string_view text) : text_(text) {}

  url parse() {
    auto scheme_end = text_.find("://");
    if (scheme_end == std::string_view::npos)
      fail("expected redis://host[:port][/db] or unix:///path/to/socket[?db=N]");
    std::string scheme(text_.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view rest = text_.substr(scheme_end + 3), query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (scheme == "redis")
      parse_tcp(rest);
    else if (scheme == "unix")
      parse_unix(rest);
    else if (scheme == "rediss")
      fail("TLS (rediss://) is not supported");
    else
      fail("unknown scheme \"" + scheme + "\" (redis:// or unix://)");
    parse_query(query);
    return out_;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument("invalid Redis URL \"" + redact(text_) + "\": " + why);
  }

  std::string decode(std::string_view s, const char* what) const {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        out += s[i];
        continue;
      }
      unsigned byte = 0;
      auto hex = s.substr(i + 1, 2);
      auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), byte, 16);
      if (hex.size() != 2 || ec != std::errc() || end != hex.data() + 2)
        fail(std::string("bad %-escape in the ") + what);
      out += static_cast<char>(byte);
      i += 2;
    }
    return out;
  }

  void parse_userinfo(std::string_view info) {
    auto colon = info.find(':');
    if (colon == std::string_view::npos) fail("the part before @ must be :password or user:password");
    if (colon > 0) out_.username = decode(info.substr(0, colon), "user name");
    if (colon + 1 < info.size()) out_.password = decode(info.substr(colon + 1), "password");
  }

  int parse_db(std::string_view s) const {
    int db = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), db);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || db < 0)
      fail("the database must be a number from 0 (got \"" + std::string(s) + "\")");
    return db;
  }

  void parse_host_port(std::string_view hostport) {
    std::string_view port;
    if (hostport.starts_with('[')) {
      auto close = hostport.find(']');
      if (close == std::string_view::npos) fail("unclosed [ in the IPv6 address");
      out_.host = hostport.substr(1, close - 1);
      auto after = hostport.substr(close + 1);
      if (!after.empty() && !after.starts_with(':')) fail("unexpected text after the IPv6 address");
      if (!after.empty()) port = after.substr(1);
      if (after == ":") fail("empty port");
    } else {
      auto colon = hostport.rfind(':');
      out_.host = hostport.substr(0, colon);
      if (colon != std::string_view::npos) {
        port = hostport.substr(colon + 1);
        if (port.empty()) fail("empty port");
      }
    }
    if (out_.host.empty()) fail("no host (redis://host[:port][/db])");
    if (out_.host.find_first_of(" \t\r\n/@:[]") != std::string::npos && hostport.front() != '[')
      fail("the host \"" + out_.host + "\" is not a name or address");
    if (!port.empty()) {
      unsigned n = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (ec != std::errc() || end != port.data() + port.size() || n == 0 || n > 65535)
        fail("the port must be a number from 1 to 65535 (got \"" + std::string(port) + "\")");
      out_.port = static_cast<std::uint16_t>(n);
    }
  }

  void parse_tcp(std::string_view rest) {
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
      parse_userinfo(authority.substr(0, at));
      authority = authority.substr(at + 1);
    }
    parse_host_port(authority);
    if (path.size() > 1) {
      if (path.find('/', 1) != std::string_view::npos) fail("the path must be /db, a database number");
      out_.db = parse_db(path.substr(1));
    }
  }

  void parse_unix(std::string_view rest) {
    if (!rest.starts_with('/')) {
      auto at = rest.find('@');
      if (at == std::string_view::npos) fail("a Unix socket URL needs an absolute path: unix:///path/to/socket");
      parse_userinfo(rest.substr(0, at));
      rest = rest.substr(at + 1);
    }
    if (!rest.starts_with('/') || rest.size() < 2)
      fail("a Unix socket URL needs an absolute path: unix:///path/to/socket");
    if (rest.size() >= sizeof(sockaddr_un::sun_path))
      fail("the socket path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    out_.unix_path = rest;
  }

  void parse_query(std::string_view query) {
    while (!query.empty()) {
      auto amp = query.find('&');
      auto item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (item.empty()) continue;
      auto eq = item.find('=');
      auto key = item.substr(0, eq);
      auto val = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      if (key == "db")
        out_.db = parse_db(val);
      else if (key == "password")
        out_.password = decode(val, "password");
      else
        fail("unknown parameter \"" + std::string(key) + "\" (known: db, password)");
    }
  }

  std::string_view text_;
  url out_;
};

}  // namespace

std::string url::describe() const {
  if (is_unix()) return "unix:" + unix_path + (db ? "?db=" + std::to_string(db) : "");
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port) + (db ? "/" + std::to_string(db) : "");
}

url parse_url(std::string_view text) { return url_parser(text).parse(); }

std::string reply_error::prefix() const {
  std::string_view w = what();
  return std::string(w.substr(0, w.find(' ')));
}

namespace detail {

namespace {

// Why an operation failed, in words for logs and `unavailable`.
std::string failure_text(const std::exception& e) {
  if (auto* se = dynamic_cast<const boost::system::system_error*>(&e)) {
    if (se->code() == asio::error::eof) return "the server closed the connection";
    return se->code().message();
  }
  return e.what();
}

std::string ms_text(milliseconds d) { return std::to_string(d.count()) + " ms"; }

// Calls one of the owner's callbacks through a copy (the callback may destroy
// the owner, and with it the original); what it throws is logged, not let
// through into the connection's coroutines.
template <class... Args>
void call_back(const char* name, const std::function<void(Args...)>& f, const std::decay_t<Args>&... args) {
  if (!f) return;
  auto copy = f;
  try {
    copy(args...);
  } catch (const std::exception& e) {
    log::error(std::string("redis: ") + name + " threw", {{"error", e.what()}});
  } catch (...) {
    log::error(std::string("redis: ") + name + " threw", {{"error", "unknown exception"}});
  }
}

}  // namespace

// A command waiting for its reply. The command's coroutine waits on `wake`
// (which never expires by itself); complete() and fail() cancel the wait.
struct request {
  request(asio::any_io_executor ex, steady::time_point due) : wake(ex, steady::time_point::max()), deadline(due) {}

  void complete(value v) {
    reply = std::move(v);
    done = true;
    wake.cancel();
  }
  void fail(const std::string& why) {
    failure = why;
    done = true;
    wake.cancel();
  }

  asio::steady_timer wake;
  steady::time_point deadline;
  std::optional<value> reply;
  std::string failure;  // set: no reply will come, this is why
  bool done = false;
};

// One connection to the server: the socket, the parser, the bytes waiting
// for the writer and the commands waiting for replies. The coroutines
// working on it hold it by shared_ptr; close() ends all of them.
class connection {
 public:
  connection(asio::any_io_executor ex, const client_options& o)
      : socket_(ex), resolver_(ex), parser_(o.limits), write_signal_(ex, steady::time_point::max()), timer_(ex) {}

  // Resolves and connects (TCP_NODELAY on), or connects to the Unix socket.
  // Throws on failure, or when close() came first.
  asio::awaitable<void> open(const url& u);
  // The next reply; throws when the connection fails or breaks the protocol.
  asio::awaitable<value> read_value();
  // Writes `bytes` now, bypassing the writer (the handshake, before it runs).
  asio::awaitable<void> write_now(std::string bytes);

  // Queues a command for the writer; its reply goes to `r` when set (replies
  // are matched in order, so every command sent with no `r` must be one that
  // gets no reply matched by deliver(): a subscriber's).
  void send(std::span<const std::string> args, std::shared_ptr<request> r = nullptr) {
    if (!open_) {
      if (r) r->fail(reason_);
      return;
    }
    append_command(pending_, args);
    if (r) {
      in_flight_.push_back(std::move(r));
      if (in_flight_.size() == 1) timer_.cancel();  // the watchdog re-arms for it
    }
    if (writer_idle_) write_signal_.cancel();
  }
  // Hands `v` to the oldest command in flight; false when none waits.
  bool deliver(value v) {
    if (in_flight_.empty()) return false;
    auto r = std::move(in_flight_.front());
    in_flight_.pop_front();
    r->complete(std::move(v));
    return true;
  }
  // Closes the socket, wakes every coroutine working on it, fails the
  // commands in flight with `why`. The first reason stays; idempotent.
  void close(const std::string& why) {
    if (!open_) return;
    open_ = false;
    reason_ = why;
    boost::system::error_code ec;
    socket_.close(ec);
    resolver_.cancel();
    write_signal_.cancel();
    timer_.cancel();
    pending_.clear();
    auto waiting = std::move(in_flight_);
    in_flight_.clear();
    for (auto& r : waiting) r->fail(why);
  }

  bool is_open() const noexcept { return open_; }
  const std::string& close_reason() const noexcept { return reason_; }
  steady::time_point last_read() const noexcept { return last_read_; }
  steady::time_point oldest_deadline() const {
    return in_flight_.empty() ? steady::time_point::max() : in_flight_.front()->deadline;
  }
  // The watchdog's (client) or keepalive's (subscriber) timer.
  asio::steady_timer& timer() noexcept { return timer_; }

  // The writer: writes whatever was queued, all of it in one write, until
  // the connection closes.
  static asio::awaitable<void> run_writer(std::shared_ptr<connection> self);

 private:
  asio::generic::stream_protocol::socket socket_;
  asio::ip::tcp::resolver resolver_;
  parser parser_;
  std::array<char, 16 * 1024> read_buffer_;
  steady::time_point last_read_ = steady::now();
  std::string pending_;  // encoded commands the writer has not taken yet
  bool writer_idle_ = false;
  asio::steady_timer write_signal_;
  asio::steady_timer timer_;
  std::deque<std::shared_ptr<request>> in_flight_;
  bool open_ = true;
  std::string reason_;
};

asio::awaitable<void> connection::open(const url& u) {
  using generic_endpoint = asio::generic::stream_protocol::endpoint;
  if (u.is_unix()) {
    generic_endpoint ep{asio::local::stream_protocol::endpoint(u.unix_path)};
    co_await socket_.async_connect(ep, asio::use_awaitable);
    co_return;
  }
  std::string port = std::to_string(u.port);
  auto found = co_await resolver_.async_resolve(u.host, port, asio::use_awaitable);
  boost::system::error_code last = asio::error::host_not_found;
  for (const auto& entry : found) {
    if (!open_) break;
    boost::system::error_code ignored;
    socket_.close(ignored);
    generic_endpoint ep{entry.endpoint()};
    auto [ec] = co_await socket_.async_connect(ep, use_tuple);
    if (!ec && open_) {
      socket_.set_option(asio::ip::tcp::no_delay(true));
      co_return;
    }
    last = ec;
  }
  if (!open_) throw unavailable(reason_);
  throw boost::system::system_error(last);
}

asio::awaitable<value> connection::read_value() {
  for (;;) {
    if (auto v = parser_.next()) co_return std::move(*v);
    std::size_t n = co_await socket_.async_read_some(asio::buffer(read_buffer_), asio::use_awaitable);
    last_read_ = steady::now();
    parser_.feed(std::string_view(read_buffer_.data(), n));
  }
}

asio::awaitable<void> connection::write_now(std::string bytes) {
  co_await asio::async_write(socket_, asio::buffer(bytes), asio::use_awaitable);
}

asio::awaitable<void> connection::run_writer(std::shared_ptr<connection> self) {
  std::string batch;
  try {
    while (self->open_) {
      if (self->pending_.empty()) {
        self->writer_idle_ = true;
        co_await self->write_signal_.async_wait(use_tuple);
        self->writer_idle_ = false;
        continue;
      }
      batch.clear();
      std::swap(batch, self->pending_);
      co_await asio::async_write(self->socket_, asio::buffer(batch), asio::use_awaitable);
    }
  } catch (const std::exception& e) {
    self->close(failure_text(e));
  }
}

namespace {

// Closes the connection when the oldest command in flight has waited longer
// than the command timeout.
asio::awaitable<void> run_watchdog(std::shared_ptr<connection> c, milliseconds timeout) {
  while (c->is_open()) {
    auto due = c->oldest_deadline();
    if (due != steady::time_point::max() && steady::now() >= due) {
      c->close("no reply within " + ms_text(timeout));
      break;
    }
    c->timer().expires_at(due);
    co_await c->timer().async_wait(use_tuple);
  }
}

// A subscriber's health check: a PING after `ping_interval` of silence, and
// the connection closed when nothing answers within the command timeout.
asio::awaitable<void> run_keepalive(std::shared_ptr<connection> c, client_options o) {
  static const std::string ping[] = {"PING"};
  while (c->is_open()) {
    c->timer().expires_after(o.ping_interval);
    co_await c->timer().async_wait(use_tuple);
    if (!c->is_open()) break;
    if (steady::now() - c->last_read() < o.ping_interval) continue;
    auto pinged = steady::now();
    c->send(ping);
    c->timer().expires_after(o.command_timeout);
    co_await c->timer().async_wait(use_tuple);
    if (c->is_open() && c->last_read() < pinged) c->close("no answer to PING within " + ms_text(o.command_timeout));
  }
}

// AUTH, SELECT and CLIENT SETNAME (or PING when there is none of them),
// pipelined; throws on an error reply.
asio::awaitable<void> handshake(std::shared_ptr<connection> c, const url& u, const client_options& o) {
  std::vector<std::vector<std::string>> commands;
  if (u.password) {
    if (u.username)
      commands.push_back({"AUTH", *u.username, *u.password});
    else
      commands.push_back({"AUTH", *u.password});
  }
  if (u.db != 0) commands.push_back({"SELECT", std::to_string(u.db)});
  if (!o.name.empty()) commands.push_back({"CLIENT", "SETNAME", o.name});
  // A connection counts only once the server answered: a server that is
  // stopped (or a proxy with no server behind it) still accepts connections.
  if (commands.empty()) commands.push_back({"PING"});
  std::string bytes;
  for (const auto& command : commands) append_command(bytes, command);
  auto writing = c->write_now(std::move(bytes));
  co_await std::move(writing);
  for (const auto& command : commands) {
    value reply = co_await c->read_value();
    if (reply.is_error()) {
      std::string name = command[0] == "CLIENT" ? "CLIENT SETNAME" : command[0];
      throw std::runtime_error(name + " failed: " + reply.text);
    }
  }
}

}  // namespace

// What a command client and a subscriber share: the life from start() to
// stop() (connect, handshake, serve until the connection breaks, wait, again),
// its logs and its callbacks. Held by shared_ptr by the owner and by every
// coroutine; the owner's destructor stops it and cuts `owner` links, so a
// coroutine still unwinding touches only this.
struct link_state : std::enable_shared_from_this<link_state> {
  link_state(asio::any_io_executor e, url u, client_options o, std::string r)
      : ex(std::move(e)),
        where(std::move(u)),
        opts(std::move(o)),
        role(std::move(r)),
        backoff(ex),
        rng(std::random_device{}()) {}
  virtual ~link_state() = default;

  // Both run inside run(), which holds this state alive whatever callbacks do.
  // After the handshake and within the connect timeout (a subscriber subscribes).
  virtual asio::awaitable<void> prepare(std::shared_ptr<connection>) { co_return; }
  // Uses the connection until it closes.
  virtual asio::awaitable<void> serve(std::shared_ptr<connection> c) = 0;
  virtual void notify_connected() = 0;
  virtual void notify_disconnected(const std::string& why) = 0;

  void start();
  void stop();
  bool current(std::uint64_t gen) const noexcept { return running && generation == gen; }
  bool connected() const noexcept { return live && live->is_open(); }

  // Connects, handshakes and prepares `c` within the connect timeout;
  // returns "" or why it failed.
  static asio::awaitable<std::string> establish(std::shared_ptr<link_state> self, std::shared_ptr<connection> c);
  static asio::awaitable<void> run(std::shared_ptr<link_state> self, std::uint64_t gen);

  void went_up(std::shared_ptr<connection> c);
  void went_down(const std::string& why);
  void attempt_failed(const std::string& why);
  milliseconds jittered(milliseconds d) {
    std::uniform_int_distribution<long long> half(0, d.count() / 2);
    return milliseconds(d.count() - d.count() / 2 + half(rng));
  }
  std::string label() const { return opts.name.empty() ? role : opts.name; }

  asio::any_io_executor ex;
  url where;
  client_options opts;
  std::string role;  // "commands" or "subscriber", for logs
  std::uint64_t generation = 0;
  bool running = false;
  std::shared_ptr<connection> live;     // handshake done, until lost
  std::shared_ptr<connection> attempt;  // being established
  asio::steady_timer backoff;
  std::minstd_rand rng;
  // For the logs of an outage.
  bool ever_connected = false;
  int failures = 0;
  steady::time_point down_since, last_warning;
};

void link_state::start() {
  if (running) return;
  running = true;
  ++generation;
  ever_connected = false;
  failures = 0;
  down_since = steady::now();
  asio::co_spawn(ex, run(shared_from_this(), generation), log_failure("redis " + label() + " connection"));
}

void link_state::stop() {
  if (!running) return;
  running = false;
  ++generation;
  backoff.cancel();
  if (attempt) attempt->close("the client was stopped");
  if (live) live->close("the client was stopped");
  attempt.reset();
  live.reset();
}

asio::awaitable<std::string> link_state::establish(std::shared_ptr<link_state> self, std::shared_ptr<connection> c) {
  asio::steady_timer deadline(self->ex);
  deadline.expires_after(self->opts.connect_timeout);
  deadline.async_wait([c, timeout = self->opts.connect_timeout](boost::system::error_code ec) {
    if (!ec) c->close("not connected within " + ms_text(timeout));
  });
  try {
    co_await c->open(self->where);
    auto greeting = handshake(c, self->where, self->opts);
    co_await std::move(greeting);
    auto preparing = self->prepare(c);
    co_await std::move(preparing);
  } catch (const std::exception& e) {
    c->close(failure_text(e));
  }
  co_return c->is_open() ? std::string() : c->close_reason();
}

asio::awaitable<void> link_state::run(std::shared_ptr<link_state> self, std::uint64_t gen) {
  auto delay = self->opts.backoff_min;
  while (self->current(gen)) {
    auto c = std::make_shared<connection>(self->ex, self->opts);
    self->attempt = c;
    auto establishing = establish(self, c);
    std::string failure = co_await std::move(establishing);
    if (self->attempt == c) self->attempt.reset();
    if (!self->current(gen)) co_return;
    if (failure.empty()) {
      delay = self->opts.backoff_min;
      self->went_up(c);
      if (self->current(gen) && c->is_open()) {
        auto serving = self->serve(c);
        co_await std::move(serving);
      }
      if (!self->current(gen)) co_return;
      self->went_down(c->close_reason());
    } else {
      self->attempt_failed(failure);
    }
    if (!self->current(gen)) co_return;
    self->backoff.expires_after(self->jittered(delay));
    co_await self->backoff.async_wait(use_tuple);
    delay = std::min(delay * 2, self->opts.backoff_max);
  }
}

void link_state::went_up(std::shared_ptr<connection> c) {
  live = std::move(c);
  if (ever_connected) {
    auto down = std::chrono::duration_cast<milliseconds>(steady::now() - down_since);
    log::info("redis: reconnected", {{"server", where.describe()},
                                     {"connection", label()},
                                     {"down_ms", down.count()},
                                     {"failed_attempts", failures}});
  } else {
    log::info("redis: connected", {{"server", where.describe()}, {"connection", label()}});
  }
  ever_connected = true;
  failures = 0;
  notify_connected();
}

void link_state::went_down(const std::string& why) {
  live.reset();
  down_since = last_warning = steady::now();
  log::warn("redis: connection lost", {{"server", where.describe()}, {"connection", label()}, {"error", why}});
  notify_disconnected(why);
}

void link_state::attempt_failed(const std::string& why) {
  ++failures;
  auto now = steady::now();
  if (failures == 1 && !ever_connected) {
    last_warning = now;
    log::warn("redis: cannot connect", {{"server", where.describe()}, {"connection", label()}, {"error", why}});
    notify_disconnected(why);
  } else if (now - last_warning >= k_outage_warning_interval) {
    last_warning = now;
    auto down = std::chrono::duration_cast<std::chrono::seconds>(now - down_since);
    log::warn("redis: still cannot connect", {{"server", where.describe()},
                                              {"connection", label()},
                                              {"down_s", down.count()},
                                              {"failed_attempts", failures},
                                              {"error", why}});
  } else {
    log::debug("redis: connection attempt failed", {{"server", where.describe()}, {"error", why}});
  }
}

// ---- commands --------------------------------------------------------------

struct client_state final : link_state {
  client_state(asio::any_io_executor e, url u, client_options o)
      : link_state(std::move(e), std::move(u), std::move(o), "commands") {}

  asio::awaitable<void> serve(std::shared_ptr<connection> c) override {
    asio::co_spawn(ex, connection::run_writer(c), log_failure("redis writer"));
    asio::co_spawn(ex, run_watchdog(c, opts.command_timeout), log_failure("redis command timeout"));
    try {
      for (;;) {
        value v = co_await c->read_value();
        if (!c->deliver(std::move(v))) {
          c->close("a reply came with no command waiting for it");
          break;
        }
      }
    } catch (const std::exception& e) {
      c->close(failure_text(e));
    }
  }
  void notify_connected() override {
    if (owner) call_back("on_connected", owner->on_connected);
  }
  void notify_disconnected(const std::string& why) override {
    if (owner) call_back("on_disconnected", owner->on_disconnected, why);
  }

  client* owner = nullptr;
};

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

asio::awaitable<value> run_command(std::shared_ptr<client_state> s, std::vector<std::string> args) {
  if (args.empty()) throw std::invalid_argument("redis: a command needs a name");
  auto name = upper(args[0]);
  if (name == "SUBSCRIBE" || name == "PSUBSCRIBE" || name == "SSUBSCRIBE" || name == "MONITOR")
    throw std::invalid_argument("redis: " + name + " needs a connection of its own (redis::subscriber)");
  if (!s->connected()) throw unavailable("redis: not connected to " + s->where.describe());
  auto r = std::make_shared<request>(s->ex, steady::now() + s->opts.command_timeout);
  s->live->send(args, r);
  while (!r->done) {
    co_await r->wake.async_wait(use_tuple);
    if (!r->done) throw boost::system::system_error(asio::error::operation_aborted);  // the caller cancelled
  }
  if (!r->reply) throw unavailable("redis: no reply from " + s->where.describe() + ": " + r->failure);
  if (r->reply->is_error()) throw reply_error(r->reply->text);
  co_return std::move(*r->reply);
}

}  // namespace

// ---- subscriptions ---------------------------------------------------------

struct subscriber_state final : link_state {
  subscriber_state(asio::any_io_executor e, url u, client_options o)
      : link_state(std::move(e), std::move(u), std::move(o), "subscriber") {}

  void subscribe(std::string channel) {
    if (std::find(channels.begin(), channels.end(), channel) != channels.end()) return;
    channels.push_back(std::move(channel));
    if (connected()) announce(*live);
  }
  // Sends SUBSCRIBE for the channels added since the last one.
  void announce(connection& c) {
    if (announced >= channels.size()) return;
    std::vector<std::string> command{"SUBSCRIBE"};
    command.insert(command.end(), channels.begin() + static_cast<std::ptrdiff_t>(announced), channels.end());
    announced = channels.size();
    c.send(command);
  }

  asio::awaitable<void> prepare(std::shared_ptr<connection> c) override;
  asio::awaitable<void> serve(std::shared_ptr<connection> c) override;
  // What a pushed value says: a message (passed on), a subscription
  // confirmed (its channel returned), a pong; throws on anything else.
  std::optional<std::string> handle(value v);

  void notify_connected() override {
    if (owner) call_back("on_connected", owner->on_connected);
  }
  void notify_disconnected(const std::string& why) override {
    if (owner) call_back("on_disconnected", owner->on_disconnected, why);
  }

  subscriber* owner = nullptr;
  std::vector<std::string> channels;  // in the order subscribe() added them, each once
  std::size_t announced = 0;          // how many of them the current connection was sent
};

std::optional<std::string> subscriber_state::handle(value v) {
  if (v.is_error()) throw std::runtime_error("the server refused: " + v.text);
  if (v.is_string() && v.text == "PONG") return std::nullopt;  // PING before any SUBSCRIBE
  auto& e = v.elements;
  if (!v.is_array() || e.empty() || !e[0].is_string())
    throw protocol_error("redis protocol: unexpected value on a subscriber connection");
  const std::string& type = e[0].text;
  if (type == "message" && e.size() == 3) {
    if (owner) call_back("on_message", owner->on_message, e[1].text, e[2].text);
    return std::nullopt;
  }
  if (type == "subscribe" && e.size() == 3) return std::move(e[1].text);
  if (type == "pong") return std::nullopt;
  throw protocol_error("redis protocol: unexpected \"" + type + "\" on a subscriber connection");
}

asio::awaitable<void> subscriber_state::prepare(std::shared_ptr<connection> c) {
  announced = 0;
  if (channels.empty()) co_return;
  std::vector<std::string> awaited = channels;
  std::vector<std::string> command{"SUBSCRIBE"};
  command.insert(command.end(), channels.begin(), channels.end());
  announced = channels.size();
  std::string bytes = encode(command);
  auto writing = c->write_now(std::move(bytes));
  co_await std::move(writing);
  while (!awaited.empty() && c->is_open()) {
    value v = co_await c->read_value();
    if (auto confirmed = handle(std::move(v)))
      awaited.erase(std::remove(awaited.begin(), awaited.end(), *confirmed), awaited.end());
  }
  if (!c->is_open()) throw unavailable(c->close_reason());
}

asio::awaitable<void> subscriber_state::serve(std::shared_ptr<connection> c) {
  announce(*c);  // channels added while it was connecting
  asio::co_spawn(ex, connection::run_writer(c), log_failure("redis writer"));
  asio::co_spawn(ex, run_keepalive(c, opts), log_failure("redis keepalive"));
  try {
    while (c->is_open()) {
      value v = co_await c->read_value();
      handle(std::move(v));
    }
  } catch (const std::exception& e) {
    c->close(failure_text(e));
  }
}

}  // namespace detail

// ---- the owners ------------------------------------------------------------

client::client(asio::any_io_executor ex, url u, client_options o)
    : state_(std::make_shared<detail::client_state>(std::move(ex), std::move(u), std::move(o))) {
  state_->owner = this;
}

client::~client() {
  state_->owner = nullptr;
  state_->stop();
}

void client::start() { state_->start(); }
void client::stop() { state_->stop(); }
bool client::connected() const noexcept { return state_->connected(); }

asio::awaitable<value> client::command(std::vector<std::string> args) {
  return detail::run_command(state_, std::move(args));
}

subscriber::subscriber(asio::any_io_executor ex, url u, client_options o)
    : state_(std::make_shared<detail::subscriber_state>(std::move(ex), std::move(u), std::move(o))) {
  state_->owner = this;
}

subscriber::~subscriber() {
  state_->owner = nullptr;
  state_->stop();
}

void subscriber::subscribe(std::string channel) { state_->subscribe(std::move(channel)); }
void subscriber::start() { state_->start(); }
void subscriber::stop() { state_->stop(); }
bool subscriber::connected() const noexcept { return state_->connected(); }

}  // namespace reel::redis
