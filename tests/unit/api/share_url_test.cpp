#include "api/share_url.hpp"

#include <gtest/gtest.h>

using reel::api::html_escape;
using reel::api::parse_share_url;
using reel::api::share_path;
using reel::api::share_target;
using reel::api::url_encode;

TEST(share_url, share_and_embed_urls_of_any_host_or_a_path_name_the_video) {
  auto a = parse_share_url("https://videos.example.com/v/abc_DEF-123");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, share_target::page::share);
  EXPECT_EQ(a->video_id, "abc_DEF-123");
  EXPECT_FALSE(a->token);
  auto b = parse_share_url("HTTP://localhost:8080/embed/xyz/?autoplay=1#t=3");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, share_target::page::embed);
  EXPECT_EQ(b->video_id, "xyz");
  auto c = parse_share_url("/v/xyz");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->video_id, "xyz");
}

TEST(share_url, the_first_token_parameter_is_the_link_percent_decoded) {
  auto t = parse_share_url("/v/abc?x=1&token=a%2Eb.c&token=second");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->token, "a.b.c");
  EXPECT_EQ(share_path(*t), "/v/abc?token=a.b.c");
}

TEST(share_url, anything_else_is_refused) {
  for (const char* bad :
       {"", "ftp://h/v/abc", "https://user@h/v/abc", "//h/v/abc", "https:///v/abc", "/v/", "/v/abc/def", "/video/abc",
        "/o/acme", "/v/a b", "/v/abc?token=%zz", "/v/abc?token=", "/v/abc?token=a+b", "/v/abc?token=%0a",
        "https://h?x=/v/abc", "v/abc", "/v/ab%63", "/embed/abc\x01"})
    EXPECT_FALSE(parse_share_url(bad)) << bad;
  EXPECT_FALSE(parse_share_url("/v/" + std::string(65, 'a')));
  EXPECT_TRUE(parse_share_url("/v/" + std::string(64, 'a')));
  EXPECT_FALSE(parse_share_url("/v/abc?token=" + std::string(201, 't')));
  EXPECT_FALSE(parse_share_url("/v/abc?pad=" + std::string(2048, 'p')));
}

TEST(share_url, written_back_a_target_parses_to_itself) {
  share_target t{share_target::page::embed, "vid", std::string("a&b=c#d%")};
  auto again = parse_share_url("https://h" + share_path(t));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, t.kind);
  EXPECT_EQ(again->video_id, t.video_id);
  EXPECT_EQ(again->token, t.token);
}

TEST(share_url, escapes_keep_user_text_as_text) {
  EXPECT_EQ(html_escape("He said \"hi\" <script>alert(1)</script> & 'more'"),
            "He said &quot;hi&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;more&#39;");
  EXPECT_EQ(url_encode("http://h/v/a?token=x y"), "http%3A%2F%2Fh%2Fv%2Fa%3Ftoken%3Dx%20y");
}
