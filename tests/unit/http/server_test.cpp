#include "http/server.hpp"

#include "http/middleware.hpp"
#include "support/http_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <unistd.h>
#include <cstdlib>
#include <future>
#include <thread>

using namespace reel::http;
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// A server with the given routes, run on a thread of its own; shut down
// (gracefully, as at SIGTERM) when the test ends.
class running_server {
 public:
  explicit running_server(router& routes) : server_(io_, routes, chain_, server_options{}) {
    port_ = server_.listen("127.0.0.1", 0).port();
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~running_server() {
    asio::post(io_, [this] { server_.shutdown([this] { io_.stop(); }); });
    thread_.join();
  }
  unsigned short port() const { return port_; }
  // open_connections(), read on the loop thread.
  std::size_t open_connections() {
    std::promise<std::size_t> count;
    asio::post(io_, [&] { count.set_value(server_.open_connections()); });
    return count.get_future().get();
  }

 private:
  asio::io_context io_;
  handler chain_ = dispatch_route();
  server server_;
  unsigned short port_ = 0;
  std::thread thread_;
};

// "0123456789" in a file that is already unlinked.
std::shared_ptr<const open_file> digits_file() {
  char path[] = "/tmp/reel-server-test.XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::unlink(path);
  EXPECT_EQ(::write(fd, "0123456789", 10), 10);
  return std::make_shared<const open_file>(fd);
}

response text_response(std::string body) {
  response res{status::ok, 11};
  res.set(field::content_type, "text/plain");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

asio::awaitable<void> greet_and_close(beast::tcp_stream stream, request req) {
  std::string hello = "taken over after " + std::string(req.target());
  co_await asio::async_write(stream, asio::buffer(hello), asio::use_awaitable);
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both);
}

}  // namespace

TEST(http_server, file_body_parts_and_tail_then_the_next_requests_on_the_same_connection) {
  router routes;
  routes.add(verb::get, "/file", [](context&) -> asio::awaitable<response> {
    response res = text_response("");
    file_payload payload;
    payload.file = digits_file();
    payload.parts.push_back({"[", 2, 3});
    payload.parts.push_back({"", 8, 2});
    payload.tail = "]";
    res.file = std::move(payload);
    res.content_length(1 + 3 + 2 + 1);
    co_return res;
  });
  routes.add(verb::get, "/text", [](context&) -> asio::awaitable<response> { co_return text_response("plain"); });
  running_server s(routes);

  reel::test::connection c(s.port());
  c.write(
      "GET /file HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /text HTTP/1.1\r\nHost: x\r\n\r\n");
  auto file = c.read_response();
  EXPECT_EQ(file.result_int(), 200);
  EXPECT_EQ(file.body(), "[23489]");
  auto head = c.read_response(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[field::content_length], "7");
  auto text = c.read_response();  // follows at once: HEAD sent no body
  EXPECT_EQ(text.body(), "plain");
}

TEST(http_server, bodies_read_whole_reach_the_handler_and_the_connection_serves_the_next_request) {
  router routes;
  routes.add(verb::post, "/echo",
             [](context& ctx) -> asio::awaitable<response> { co_return text_response("got " + ctx.req.body()); });
  running_server s(routes);

  reel::test::connection c(s.port());
  c.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(c.read_response().body(), "got hello");
  c.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(c.read_response().body(), "got abc");
}

TEST(http_server, takeover_gets_the_stream_and_the_request_and_the_server_forgets_the_connection) {
  router routes;
  routes.add(verb::get, "/ws", [](context&) -> asio::awaitable<response> {
    response res;
    res.takeover = [](beast::tcp_stream stream, request req) {
      return greet_and_close(std::move(stream), std::move(req));
    };
    co_return res;
  });
  running_server s(routes);

  reel::test::connection c(s.port());
  c.write("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_until_closed(), "taken over after /ws");
  EXPECT_EQ(s.open_connections(), 0u);
}
