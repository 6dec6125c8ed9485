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

}  // namespace

link::link(asio::any_io_executor ex, const redis::url& where, link_options options)
    : ex_(ex),
      options_(std::move(options)),
      id_(ids::random_id(9)),
      commands_(ex, where, named(options_.connection, options_.node_name, "commands")),
      subscriber_(ex, where, named(options_.connection, options_.node_name, "events")),
      wakeup_(ex) {}

link::~link() {
  *alive_ = false;
  stop();
}

void link::on(const std::string& channel, handler h) {
  auto& list = handlers_[channel];
  if (list.empty()) subscriber_.subscribe(channel);
  list.push_back(std::move(h));
}

void link::start() {
  subscriber_.on_message = [this](const std::string& channel, const std::string& text) { deliver(channel, text); };
  auto changed = [this] { connection_changed(); };
  auto lost = [this](const std::string&) { connection_changed(); };
  commands_.on_connected = changed;
  subscriber_.on_connected = changed;
  commands_.on_disconnected = lost;
  subscriber_.on_disconnected = lost;
  commands_.start();
  subscriber_.start();
  asio::co_spawn(ex_, send_outbox(alive_), log_failure("publishing to Redis"));
}

void link::stop() {
  if (stopped_) return;
  stopped_ = true;
  wakeup_.cancel();
  commands_.stop();
  subscriber_.stop();
}

bool link::connected() const noexcept { return commands_.connected() && subscriber_.connected(); }

std::string link::problem() const {
  if (!commands_.connected()) return "the Redis connection for commands is down";
  if (!subscriber_.connected()) return "the Redis subscription is down";
  return "";
}

void link::connection_changed() {
  bool now = connected();
  if (now == was_connected_ || stopped_) return;
  was_connected_ = now;
  if (now) {
    log::info("cluster link up", {{"node", options_.node_name}, {"waiting", outbox_.size()}});
    // Whatever others published while this process was not listening is lost.
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
      std::vector<std::string> args{"PUBLISH", next.channel, next.text};
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
