#include "cluster/link.hpp"

#include "core/async.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace reel::cluster {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

redis::client_options named(redis::client_options o, const std::string& node, const char* role) {
  o.name = "reel:" + (node.empty() ? std::string("node") : node) + ":" + role;
  return o;
}

// The reader's XREAD waits `block` for entries: its replies may take that long.
redis::client_options for_reading(redis::client_options o, std::chrono::milliseconds block) {
  o.command_timeout += block;
  return o;
}

}  // namespace

link::link(asio::any_io_executor ex, const redis::url& where, link_options options)
    : ex_(ex),
      options_(std::move(options)),
      id_(ids::random_id(9)),
      commands_(ex, where, named(options_.connection, options_.node_name, "commands")),
      reader_(ex, where, named(for_reading(options_.connection, options_.block), options_.node_name, "reader")),
      wakeup_(ex),
      reader_wakeup_(ex) {}

link::~link() {
  *alive_ = false;
  stop();
}

void link::on(const std::string& channel, handler h) { handlers_[channel].push_back(std::move(h)); }

void link::start() {
  commands_.on_connected = [this] { connection_changed(); };
  commands_.on_disconnected = [this](const std::string&) { connection_changed(); };
  reader_.on_connected = [this] { reader_wakeup_.cancel(); };
  reader_.on_disconnected = [this](const std::string&) {
    reading_ = false;
    connection_changed();
  };
  commands_.start();
  reader_.start();
  asio::co_spawn(ex_, send_outbox(alive_), log_failure("publishing to Redis"));
  asio::co_spawn(ex_, read_streams(alive_), log_failure("reading from Redis"));
}

void link::stop() {
  if (stopped_) return;
  stopped_ = true;
  wakeup_.cancel();
  reader_wakeup_.cancel();
  commands_.stop();
  reader_.stop();
}

bool link::connected() const noexcept { return commands_.connected() && reader_.connected() && reading_; }

std::string link::problem() const {
  if (!commands_.connected()) return "the Redis connection for commands is down";
  if (!reader_.connected() || !reading_) return "the Redis connection for reading is down";
  return "";
}

void link::connection_changed() {
  bool now = connected();
  if (now == was_connected_ || stopped_) return;
  was_connected_ = now;
  if (now) {
    log::info("cluster link up", {{"node", options_.node_name}, {"waiting", outbox_.size()}});
    // What others added meanwhile is read now, unless Redis lost it (a restart,
    // or more than the streams keep): caches go all the same.
    if (on_resync) on_resync();
    wake_sender();
  } else {
    log::warn("cluster link down: events and revocations of other nodes are not heard until Redis is back",
              {{"node", options_.node_name}, {"problem", problem()}});
    if (on_lost) on_lost();
  }
}

void link::publish(const std::string& channel, json::object message) {
  message["from"] = id_;
  if (outbox_.size() >= options_.outbox_limit) {
    if (dropped_++ % 1000 == 0) log::warn("cluster outbox full: dropping the oldest messages", {{"dropped", dropped_}});
    outbox_.pop_front();
  }
  outbox_.push_back({channel, json::serialize(message)});
  wake_sender();
}

asio::awaitable<void> link::flush(std::chrono::milliseconds limit) {
  auto alive = alive_;
  asio::steady_timer tick(ex_);
  auto until = std::chrono::steady_clock::now() + limit;
  while (*alive && !stopped_ && (sending_ || !outbox_.empty()) && commands_.connected() &&
         std::chrono::steady_clock::now() < until) {
    tick.expires_after(std::chrono::milliseconds(5));
    co_await tick.async_wait(asio::use_awaitable);
  }
}

void link::wake_sender() {
  if (!sending_) wakeup_.cancel();
}

asio::awaitable<void> link::send_outbox(std::shared_ptr<bool> alive) {
  while (*alive && !stopped_) {
    if (outbox_.empty() || !commands_.connected()) {
      boost::system::error_code ec;
      wakeup_.expires_at(asio::steady_timer::time_point::max());
      co_await wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Taken out before sending: the outbox may change meanwhile. A message
    // that could not be sent goes back to the front, to keep the order.
    pending next = std::move(outbox_.front());
    outbox_.pop_front();
    sending_ = true;
    bool sent = false;
    try {
      std::vector<std::string> args{"XADD", next.channel, "MAXLEN", "~", std::to_string(options_.stream_length),
                                    "*",    "m",          next.text};
      co_await commands_.command(std::move(args));
      sent = true;
    } catch (const redis::reply_error& e) {
      log::warn("Redis refused a message", {{"error", e.what()}});
      sent = true;  // dropped: sending it again would fail again
    } catch (const std::exception&) {
      // Not connected: it waits for the connection to come back.
    }
    if (!*alive) co_return;
    sending_ = false;
    if (sent)
      ++published_;
    else
      outbox_.push_front(std::move(next));
  }
}

asio::awaitable<void> link::find_stream_ends() {
  for (const auto& [channel, handlers] : handlers_) {
    if (last_ids_.count(channel)) continue;
    std::vector<std::string> args{"XREVRANGE", channel, "+", "-", "COUNT", "1"};
    auto reply = co_await reader_.command(std::move(args));
    const bool empty = !reply.is_array() || reply.elements.empty() || !reply.elements[0].is_array() ||
                       reply.elements[0].elements.empty();
    last_ids_[channel] = empty ? "0-0" : reply.elements[0].elements[0].text;
  }
}

asio::awaitable<void> link::read_streams(std::shared_ptr<bool> alive) {
  asio::steady_timer pause(ex_);
  while (*alive && !stopped_) {
    if (!reader_.connected() || handlers_.empty()) {
      boost::system::error_code ec;
      reader_wakeup_.expires_after(std::chrono::milliseconds(200));
      co_await reader_wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    bool failed = false;
    try {
      // The first time, reading starts where each stream ends now; after a
      // lost connection it goes on after the last entry read.
      co_await find_stream_ends();
      if (!*alive) co_return;
      if (!reading_) {
        reading_ = true;
        connection_changed();
      }
      // At most 200 entries a time: handing them over stays well under a millisecond of the loop.
      std::vector<std::string> args{"XREAD",  "COUNT", "200", "BLOCK", std::to_string(options_.block.count()),
                                    "STREAMS"};
      for (const auto& [channel, id] : last_ids_) args.push_back(channel);
      for (const auto& [channel, id] : last_ids_) args.push_back(id);
      auto reply = co_await reader_.command(std::move(args));
      if (!*alive) co_return;
      if (!take_entries(reply)) log::warn("cluster: an XREAD reply of an unexpected shape was ignored");
    } catch (const std::exception& e) {
      if (!*alive) co_return;
      failed = true;
      if (reading_ && !dynamic_cast<const redis::unavailable*>(&e))
        log::warn("cluster: reading the streams failed", {{"error", e.what()}});
    }
    if (failed) {  // the client reconnects by itself; a refusal is not retried in a tight loop
      boost::system::error_code ec;
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

bool link::take_entries(const redis::value& reply) {
  if (reply.is_nil()) return true;  // nothing new within `block`
  if (!reply.is_array()) return false;
  for (const auto& stream : reply.elements) {
    if (!stream.is_array() || stream.elements.size() != 2 || !stream.elements[1].is_array()) return false;
    const std::string& channel = stream.elements[0].text;
    if (!last_ids_.count(channel)) continue;
    for (const auto& entry : stream.elements[1].elements) {
      if (!entry.is_array() || entry.elements.size() != 2 || !entry.elements[1].is_array()) return false;
      last_ids_[channel] = entry.elements[0].text;
      const auto& fields = entry.elements[1].elements;
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
        if (fields[i].text == "m") deliver(channel, fields[i + 1].text);
    }
  }
  return true;
}

void link::deliver(const std::string& channel, const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* message = ec ? nullptr : v.if_object();
  const json::string* from =
      message ? (message->if_contains("from") ? message->at("from").if_string() : nullptr) : nullptr;
  if (!from) {
    log::warn("cluster: ignored a message that is not reel's", {{"channel", channel}, {"bytes", text.size()}});
    return;
  }
  if (*from == id_) return;  // this process's own, handled when it was sent
  ++received_;
  auto it = handlers_.find(channel);
  if (it == handlers_.end()) return;
  for (const auto& h : it->second) {
    try {
      h(*message);
    } catch (const std::exception& e) {
      log::warn("cluster: a message could not be handled", {{"channel", channel}, {"error", e.what()}});
    }
  }
}

}  // namespace reel::cluster
