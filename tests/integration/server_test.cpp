// The real binary over real sockets: the HTTP core's behaviour at the edges.
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace reel::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

json::value parse(const http_response& r) { return json::parse(r.body()); }

std::string error_code_of(const http_response& r) { return std::string(parse(r).at("error").at("code").as_string()); }

}  // namespace

TEST(http_server, healthz_answers_ok_with_request_id_and_security_headers) {
  server_process s;
  auto r = request(s.port(), "GET", "/healthz");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(parse(r), json::parse(R"({"status":"ok"})"));
  EXPECT_EQ(r["Content-Type"], "application/json; charset=utf-8");
  EXPECT_FALSE(r["X-Request-Id"].empty());
  EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
  auto again = request(s.port(), "GET", "/healthz", "", {{"X-Request-Id", "trace-42"}});
  EXPECT_EQ(again["X-Request-Id"], "trace-42");
  EXPECT_TRUE(s.wait_for_log("route=/healthz status=200"));
}

TEST(http_server, keep_alive_serves_pipelined_requests_in_order) {
  server_process s;
  connection c(s.port());
  c.write(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\n\r\n"
      "GET /nope HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n"
      "HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: three\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: four\r\n\r\n");
  auto r1 = c.read_response();
  auto r2 = c.read_response();
  auto r3 = c.read_response(/*head=*/true);
  auto r4 = c.read_response();
  EXPECT_EQ(r1["X-Request-Id"], "one");
  EXPECT_EQ(r1.result_int(), 200);
  EXPECT_EQ(r2["X-Request-Id"], "two");
  EXPECT_EQ(r2.result_int(), 404);
  EXPECT_EQ(r3["X-Request-Id"], "three");
  EXPECT_EQ(r3["Content-Length"], "15");  // the GET's length, without a body on the wire
  EXPECT_EQ(r4["X-Request-Id"], "four");
  EXPECT_EQ(r4.body(), R"({"status":"ok"})");
  // Still open for more.
  c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().result_int(), 200);
}

TEST(http_server, malformed_request_line_gets_400_and_close) {
  server_process s;
  connection c(s.port());
  c.write("GARBAGE\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_EQ(error_code_of(r), "bad_request");
  EXPECT_TRUE(c.closed_by_server());
  // The server is unharmed.
  EXPECT_EQ(request(s.port(), "GET", "/healthz").result_int(), 200);
}

TEST(http_server, unknown_transfer_encoding_is_400_and_close_never_a_smuggled_request) {
  server_process s;
  // The body of a request with a transfer coding the server does not speak
  // must not be read as the next request on the connection.
  const std::string smuggled = "GET /api/auth/me HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string te :
       {"gzip", "chunked, chunked", "identity", "xchunked", "chunked\r\nTransfer-Encoding: gzip"}) {
    connection c(s.port());
    c.write("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" + smuggled);
    auto r = c.read_response();
    EXPECT_EQ(r.result_int(), 400) << te;
    EXPECT_EQ(error_code_of(r), "bad_request") << te;
    EXPECT_TRUE(c.closed_by_server()) << te;  // no second response (the smuggled 401) follows
  }
  {
    connection c(s.port());
    c.write(
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\n" +
        smuggled);
    EXPECT_EQ(c.read_response().result_int(), 400);
    EXPECT_TRUE(c.closed_by_server());
  }
  {
    connection c(s.port());
    c.write("POST /api/auth/login HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_response().result_int(), 400);
  }
  // Plain chunked bodies still work.
  connection c(s.port());
  c.write(
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 400);  // the login's own complaint about the fields
  EXPECT_NE(r.body().find("email"), std::string::npos);
  EXPECT_EQ(request(s.port(), "GET", "/healthz").result_int(), 200);
}

TEST(http_server, oversized_head_gets_431) {
  server_process s;
  connection c(s.port());
  c.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 431);
  EXPECT_EQ(error_code_of(r), "request_header_fields_too_large");
  EXPECT_TRUE(c.closed_by_server());
}

TEST(http_server, body_over_the_limit_gets_413_before_it_is_sent) {
  server_process s({"--max-json-bytes", "1024"});
  connection c(s.port());
  c.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_EQ(error_code_of(r), "payload_too_large");
  EXPECT_EQ(r["Connection"], "close");
}

TEST(http_server, chunked_body_over_the_limit_gets_413_mid_stream) {
  server_process s({"--max-json-bytes", "1024"});
  connection c(s.port());
  std::string chunk(800, 'x');
  c.write("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  c.write("320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.result_int(), 413);
}

TEST(http_server, expect_100_continue_is_honoured) {
  server_process s;
  connection c(s.port());
  c.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response(/*head=*/true);
  EXPECT_EQ(interim.result_int(), 100);
  c.write("{}");
  EXPECT_EQ(c.read_response().result_int(), 405);
}

TEST(http_server, unknown_route_is_404_and_wrong_method_405_with_allow) {
  server_process s;
  auto nf = request(s.port(), "GET", "/does/not/exist");
  EXPECT_EQ(nf.result_int(), 404);
  EXPECT_EQ(error_code_of(nf), "not_found");
  auto na = request(s.port(), "DELETE", "/healthz");
  EXPECT_EQ(na.result_int(), 405);
  EXPECT_EQ(na["Allow"], "GET, HEAD");
  EXPECT_EQ(error_code_of(na), "method_not_allowed");
  auto opt = request(s.port(), "OPTIONS", "/healthz");
  EXPECT_EQ(opt.result_int(), 204);
  EXPECT_EQ(opt["Allow"], "GET, HEAD");
}

TEST(http_server, cors_allowlist_is_enforced_end_to_end) {
  server_process s({}, {{"REEL_CORS_ORIGINS", "http://app.test:3000"}});
  auto pre = request(s.port(), "OPTIONS", "/healthz", "",
                     {{"Origin", "http://app.test:3000"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(pre.result_int(), 204);
  EXPECT_EQ(pre["Access-Control-Allow-Origin"], "http://app.test:3000");
  EXPECT_EQ(pre["Access-Control-Allow-Credentials"], "true");
  auto foreign = request(s.port(), "GET", "/healthz", "", {{"Origin", "http://evil.test"}});
  EXPECT_EQ(foreign.result_int(), 200);
  EXPECT_EQ(foreign.find("Access-Control-Allow-Origin"), foreign.end());
}

TEST(http_server, slow_client_that_never_finishes_its_head_is_cut_off) {
  server_process s({"--headers-timeout-ms", "600"});
  connection c(s.port(), 5s);
  auto start = std::chrono::steady_clock::now();
  c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // no blank line, ever
  std::string got = c.read_until_closed();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 3s);
  EXPECT_EQ(got, "");  // disconnected, nothing answered
  EXPECT_EQ(request(s.port(), "GET", "/healthz").result_int(), 200);
}

TEST(http_server, trickling_head_does_not_reset_the_deadline) {
  server_process s({"--headers-timeout-ms", "800"});
  connection c(s.port(), 5s);
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (int i = 0; i < 40 && !cut; ++i) {
    try {
      c.write("X");
    } catch (...) {
      cut = true;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(cut || c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3500ms);
}

TEST(http_server, silent_connection_is_closed_after_the_head_timeout) {
  server_process s({"--headers-timeout-ms", "500"});
  connection c(s.port(), 5s);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(http_server, idle_keep_alive_connection_closes_after_the_idle_timeout) {
  server_process s({"--keepalive-timeout-ms", "700"});
  connection c(s.port(), 5s);
  c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GT(took, 400ms);
  EXPECT_LT(took, 3s);
}

TEST(http_server, sigterm_lets_the_request_in_flight_finish_then_exits_zero) {
  server_process s;
  connection idle(s.port());
  idle.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read_response().result_int(), 200);

  connection busy(s.port());
  busy.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
  std::this_thread::sleep_for(200ms);
  ::kill(s.pid(), SIGTERM);
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(s.running());
  // The idle keep-alive connection is closed at once.
  EXPECT_TRUE(idle.closed_by_server());
  // New connections are refused.
  EXPECT_THROW(connection(s.port()), std::exception);
  // The request in flight completes and is answered, with Connection: close.
  busy.write("67890");
  auto r = busy.read_response();
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r["Connection"], "close");
  EXPECT_EQ(s.stop(0, 5s), 0);
  EXPECT_NE(s.log().find("shutting down signal=SIGTERM"), std::string::npos);
}

TEST(http_server, shutdown_gives_up_on_a_stuck_request_after_the_timeout) {
  server_process s({"--shutdown-timeout-ms", "800"});
  connection busy(s.port());
  busy.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1");
  std::this_thread::sleep_for(200ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(s.stop(SIGTERM, 5s), 0);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GT(took, 600ms);
  EXPECT_LT(took, 3s);
}

TEST(http_server, metrics_count_requests_by_route_and_status_and_report_loop_lag) {
  const std::string token = "metrics-token-for-tests";
  server_process s({"--metrics-token", token});
  request(s.port(), "GET", "/healthz");
  request(s.port(), "GET", "/healthz");
  request(s.port(), "GET", "/nope");
  std::this_thread::sleep_for(250ms);
  auto m = request(s.port(), "GET", "/metrics", "", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(m.result_int(), 200);
  EXPECT_NE(m["Content-Type"].find("text/plain"), std::string::npos);
  const std::string& b = m.body();
  EXPECT_NE(b.find("reel_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"), std::string::npos)
      << b;
  EXPECT_NE(b.find("reel_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"), std::string::npos);
  EXPECT_NE(b.find("reel_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(b.find("reel_event_loop_lag_seconds_count"), std::string::npos);
  EXPECT_EQ(b.find("reel_event_loop_lag_seconds_count 0\n"), std::string::npos);
  EXPECT_NE(b.find("reel_open_connections 1"), std::string::npos);
}

TEST(http_server, readyz_names_what_is_not_usable) {
  server_process s;
  auto ok = request(s.port(), "GET", "/readyz");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(parse(ok).at("checks").at("storage"), "ok");
  EXPECT_EQ(parse(ok).at("checks").at("ffmpeg"), "ok");

  // Storage gone: the data dir replaced by a plain file.
  std::filesystem::rename(s.data_dir(), s.data_dir() + ".moved");
  std::ofstream(s.data_dir()) << "not a directory";
  auto bad = request(s.port(), "GET", "/readyz");
  EXPECT_EQ(bad.result_int(), 503);
  EXPECT_EQ(error_code_of(bad), "unavailable");
  EXPECT_NE(std::string(parse(bad).at("error").at("message").as_string()).find("storage"), std::string::npos);
  std::filesystem::remove(s.data_dir());
  std::filesystem::rename(s.data_dir() + ".moved", s.data_dir());
}

TEST(http_server, readyz_reports_missing_ffmpeg) {
  server_process s({}, {{"PATH", "/nonexistent"}});
  auto bad = request(s.port(), "GET", "/readyz");
  EXPECT_EQ(bad.result_int(), 503);
  EXPECT_EQ(parse(bad).at("checks").at("ffmpeg"), "ffmpeg is not on the PATH");
}

TEST(reel_command, bad_config_stops_with_one_clear_sentence) {
  std::string out;
  EXPECT_EQ(run_reel({"serve", "--port", "eighty"}, {}, out), 2);
  EXPECT_EQ(out, "reel: The flag --port must be an integer from 0 to 65535, got \"eighty\".\n");
  EXPECT_EQ(run_reel({"serve"}, {{"REEL_LOG_LEVEL", "chatty"}}, out), 2);
  EXPECT_NE(out.find("REEL_LOG_LEVEL"), std::string::npos);
  EXPECT_EQ(run_reel({"frobnicate"}, {}, out), 2);
  EXPECT_NE(out.find("unknown command"), std::string::npos);
}

TEST(reel_command, port_in_use_is_reported) {
  server_process first;
  std::string out;
  EXPECT_EQ(
      run_reel({"serve", "--host", "127.0.0.1", "--port", std::to_string(first.port()), "--data-dir", first.data_dir()},
               {}, out),
      2);
  EXPECT_NE(out.find("Cannot listen on 127.0.0.1:"), std::string::npos) << out;
}
