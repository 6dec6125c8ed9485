#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace reel::http;

namespace {

handler noop() {
  return [](context&) -> boost::asio::awaitable<response> { co_return empty_response(status::no_content); };
}

router router_sample() {
  router r;
  r.add(verb::get, "/api/videos", noop());
  r.add(verb::post, "/api/videos", noop(), {.body_limit = 42});
  r.add(verb::get, "/api/videos/:id", noop());
  r.add(verb::patch, "/api/videos/:id", noop());
  r.add(verb::get, "/api/stream/:id/hls/*", noop());
  return r;
}

}  // namespace

TEST(router, literal_route_matches_its_method) {
  auto r = router_sample();
  route_params p;
  auto m = r.find(verb::post, "/api/videos", p);
  ASSERT_EQ(m.outcome, router::match::kind::found);
  EXPECT_EQ(m.matched->pattern, "/api/videos");
  EXPECT_EQ(m.matched->options.body_limit, 42u);
}

TEST(router, parameter_is_captured_and_percent_decoded) {
  auto r = router_sample();
  route_params p;
  auto m = r.find(verb::get, "/api/videos/ab%20c", p);
  ASSERT_EQ(m.outcome, router::match::kind::found);
  EXPECT_EQ(m.matched->pattern, "/api/videos/:id");
  EXPECT_EQ(p.at("id"), "ab c");
}

TEST(router, empty_parameter_segment_does_not_match) {
  auto r = router_sample();
  route_params p;
  EXPECT_EQ(r.find(verb::get, "/api/videos/", p).outcome, router::match::kind::not_found);
}

TEST(router, rest_segment_captures_the_remaining_path) {
  auto r = router_sample();
  route_params p;
  auto m = r.find(verb::get, "/api/stream/v1/hls/360p/seg_001.m4s", p);
  ASSERT_EQ(m.outcome, router::match::kind::found);
  EXPECT_EQ(p.at("id"), "v1");
  EXPECT_EQ(p.at("*"), "360p/seg_001.m4s");
}

TEST(router, unknown_path_is_not_found) {
  auto r = router_sample();
  route_params p;
  EXPECT_EQ(r.find(verb::get, "/nope", p).outcome, router::match::kind::not_found);
  EXPECT_EQ(r.find(verb::get, "no-leading-slash", p).outcome, router::match::kind::not_found);
  EXPECT_EQ(r.find(verb::get, "/api/videos/x/extra", p).outcome, router::match::kind::not_found);
}

TEST(router, wrong_method_lists_allowed_methods) {
  auto r = router_sample();
  route_params p;
  auto m = r.find(verb::delete_, "/api/videos/x", p);
  EXPECT_EQ(m.outcome, router::match::kind::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD, PATCH");
}

TEST(router, head_falls_back_to_get) {
  auto r = router_sample();
  route_params p;
  auto m = r.find(verb::head, "/api/videos/7", p);
  ASSERT_EQ(m.outcome, router::match::kind::found);
  EXPECT_EQ(m.matched->method, verb::get);
  EXPECT_EQ(p.at("id"), "7");
}

TEST(router, malformed_percent_escape_does_not_match) {
  auto r = router_sample();
  route_params p;
  EXPECT_EQ(r.find(verb::get, "/api/videos/%zz", p).outcome, router::match::kind::not_found);
  EXPECT_EQ(r.find(verb::get, "/api/videos/%00", p).outcome, router::match::kind::not_found);
  EXPECT_EQ(r.find(verb::head, "/api/videos/%4", p).outcome, router::match::kind::not_found);
}

TEST(router, duplicate_or_malformed_patterns_are_rejected) {
  router r;
  r.add(verb::get, "/a/:id", noop());
  EXPECT_THROW(r.add(verb::get, "/a/:id", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "a", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/*/b", noop()), std::invalid_argument);
  EXPECT_THROW(r.add(verb::get, "/a/:", noop()), std::invalid_argument);
}

TEST(percent_decode, decodes_plus_only_when_asked) {
  std::string out;
  ASSERT_TRUE(percent_decode("a+b%2Fc", out));
  EXPECT_EQ(out, "a+b/c");
  ASSERT_TRUE(percent_decode("a+b", out, true));
  EXPECT_EQ(out, "a b");
}

TEST(router, routes_lists_every_route_in_the_order_added) {
  auto r = router_sample();
  auto all = r.routes();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0]->method, verb::get);
  EXPECT_EQ(all[0]->pattern, "/api/videos");
  EXPECT_EQ(all[1]->method, verb::post);
  EXPECT_EQ(all[1]->options.body_limit, 42u);
  EXPECT_EQ(all[4]->pattern, "/api/stream/:id/hls/*");
  EXPECT_TRUE(router().routes().empty());
}
