// docs/api-pages.md: the embed page, the share page, oEmbed and the public
// organization pages, end to end against the real binary: who sees what
// (the streaming rules), framing per organization, escaping, oEmbed 1.0's
// fields and sizes, public lists without member data.
#include "support/api.hpp"
#include "support/helpers.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/suite_setup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace reel::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// One server: Acme (owner, with public, unlisted and private clips, and a
// public upload that failed processing) and Elsewhere (a stranger with one
// public clip). Anonymous callers send no credentials at all.
class sharing_pages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reel::test::set_up_suite([] {
      server_ = new server_process({"--trusted-proxies", "127.0.0.1"});  // the test client is the proxy
      auto p = port();
      owner_ = register_account(p, "owner@example.com", "Acme");
      stranger_ = register_account(p, "stranger@example.com", "Elsewhere");
      auto clip = make_clip((fs::path(server_->data_dir()).parent_path() / "clip.mp4").string());
      auto add = [&](const account& who, const std::string& title, const std::string& visibility) {
        auto r = upload(p, who.token, clip, {{"title", title}, {"visibility", visibility}});
        if (r.status() != 201) throw std::runtime_error("upload: " + r.raw.body());
        return id_of(r);
      };
      public_ = add(owner_, "Public one", "public");
      unlisted_ = add(owner_, "Unlisted one", "unlisted");
      private_ = add(owner_, "Private one", "private");
      theirs_ = add(stranger_, "Their public", "public");
      auto bad = upload(p, owner_.token, "not a video", {{"title", "Broken"}, {"visibility", "public"}});
      broken_ = id_of(bad);
      for (const auto& [who, id] : {std::pair{owner_, public_},
                                    {owner_, unlisted_},
                                    {owner_, private_},
                                    {stranger_, theirs_},
                                    {owner_, broken_}})
        wait_for_processing(p, who.token, id);
      auto org = call_json(p, "PATCH", "/api/orgs/" + owner_.org_id, owner_.token, {{"slug", "acme-videos"}});
      if (org.status() != 200) throw std::runtime_error("slug: " + org.raw.body());
      auto theirs = call_json(p, "PATCH", "/api/orgs/" + stranger_.org_id, stranger_.token, {{"slug", "elsewhere"}});
      if (theirs.status() != 200) throw std::runtime_error("slug: " + theirs.raw.body());
    });
  }
  void SetUp() override { REEL_REQUIRE_SUITE_SETUP(); }
  static void TearDownTestSuite() { delete server_; }

  static unsigned short port() { return server_->port(); }
  static api_reply get(const std::string& path, const std::string& token = "",
                       std::map<std::string, std::string> headers = {}) {
    return call(port(), "GET", path, token, "", std::move(headers));
  }
  static std::string signed_token(const std::string& id) {
    auto r = call(port(), "POST", "/api/videos/" + id + "/playback-url", owner_.token);
    if (r.status() != 201) throw std::runtime_error("playback-url: " + r.raw.body());
    return std::string(r.json.at("token").as_string());
  }
  static void set_embed_origins(const json::array& origins) {
    auto r = call_json(port(), "PATCH", "/api/orgs/" + owner_.org_id, owner_.token, {{"embedOrigins", origins}});
    ASSERT_EQ(r.status(), 200) << r.raw.body();
  }
  static std::string frame_ancestors(const api_reply& r) {
    std::string csp = r.header("Content-Security-Policy");
    auto at = csp.find("frame-ancestors ");
    if (at == std::string::npos) return "";
    auto end = csp.find(';', at);
    return csp.substr(at + 16, end == std::string::npos ? std::string::npos : end - at - 16);
  }

  static inline server_process* server_ = nullptr;
  static inline account owner_, stranger_;
  static inline std::string public_, unlisted_, private_, theirs_, broken_;
};

TEST_F(sharing_pages, embed_page_plays_public_and_unlisted_videos_for_anyone) {
  for (const auto& id : {public_, unlisted_}) {
    auto r = get("/embed/" + id);
    ASSERT_EQ(r.status(), 200) << r.raw.body();
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    const std::string& html = r.raw.body();
    EXPECT_TRUE(has(html, "data-hls=\"/api/stream/" + id + "/hls/master.m3u8\"")) << html;
    EXPECT_TRUE(has(html, "data-mp4=\"/api/stream/" + id + "/video\""));
    EXPECT_TRUE(has(html, "poster=\"/api/stream/" + id + "/thumbnail.jpg\""));
    EXPECT_TRUE(has(html, "<script src=\"/static/vendor/hls.min.js\" defer></script>"));
    EXPECT_TRUE(has(html, "<script src=\"/static/embed.js\" defer></script>"));
    EXPECT_TRUE(has(html, " controls "));
    EXPECT_FALSE(has(html, "<script>")) << "no inline script";
    EXPECT_FALSE(has(html, "topbar")) << "no app chrome";
  }
  // The page's script and style are served.
  EXPECT_EQ(get("/static/embed.js").status(), 200);
  EXPECT_EQ(get("/static/embed.css").status(), 200);
  auto head = call(port(), "HEAD", "/embed/" + public_);
  EXPECT_EQ(head.status(), 200);
  EXPECT_TRUE(head.raw.body().empty());
}

TEST_F(sharing_pages, embed_page_of_a_private_video_needs_membership_or_a_valid_link) {
  auto anonymous = get("/embed/" + private_);
  EXPECT_EQ(anonymous.status(), 404);
  EXPECT_FALSE(has(anonymous.raw.body(), "Private one")) << "existence is not revealed";
  EXPECT_EQ(anonymous.raw.body(), get("/embed/doesNotExist123").raw.body());
  EXPECT_EQ(get("/embed/" + private_, stranger_.token).status(), 404) << "another organization's member";
  EXPECT_EQ(get("/embed/" + private_, owner_.token).status(), 200) << "a member";

  std::string token = signed_token(private_);
  auto linked = get("/embed/" + private_ + "?token=" + token);
  ASSERT_EQ(linked.status(), 200) << linked.raw.body();
  EXPECT_TRUE(has(linked.raw.body(), "/hls/master.m3u8?token=" + token));
  EXPECT_TRUE(has(linked.raw.body(), "/video?token=" + token));
  EXPECT_TRUE(has(linked.raw.body(), "/thumbnail.jpg?token=" + token));

  std::string tampered = token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  auto bad = get("/embed/" + private_ + "?token=" + tampered);
  EXPECT_EQ(bad.status(), 403);
  EXPECT_EQ(bad.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(get("/embed/" + private_ + "?token=garbage").status(), 403);
  EXPECT_EQ(get("/embed/" + public_ + "?token=" + token).status(), 403) << "a link for another video";

  // A revoked session is nobody: the private video is not there.
  auto login =
      call_json(port(), "POST", "/api/auth/login", "", {{"email", "owner@example.com"}, {"password", "correct horse"}});
  ASSERT_EQ(login.status(), 200);
  std::string spare(login.json.at("token").as_string());
  ASSERT_EQ(call(port(), "POST", "/api/auth/logout", spare).status(), 204);
  EXPECT_EQ(get("/embed/" + private_, spare).status(), 404);
  EXPECT_EQ(get("/embed/" + public_, spare).status(), 200) << "a stale session does not stop a public video";
}

TEST_F(sharing_pages, embed_page_of_a_video_that_is_not_ready_says_so) {
  auto r = get("/embed/" + broken_);
  EXPECT_EQ(r.status(), 409);
  EXPECT_TRUE(has(r.raw.body(), "not ready")) << r.raw.body();
}

TEST_F(sharing_pages, framing_follows_the_organizations_embed_origins) {
  set_embed_origins({});
  auto open = get("/embed/" + public_);
  EXPECT_EQ(frame_ancestors(open), "*");
  EXPECT_EQ(open.raw.find("X-Frame-Options"), open.raw.end());

  set_embed_origins({"https://a.example", "http://b.example:8080"});
  for (const std::string& path :
       {"/embed/" + public_, "/embed/" + unlisted_, "/embed/" + private_ + "?token=" + signed_token(private_)}) {
    auto r = get(path);
    ASSERT_EQ(r.status(), 200) << path;
    EXPECT_EQ(frame_ancestors(r), "'self' https://a.example http://b.example:8080") << path;
    EXPECT_EQ(r.raw.find("X-Frame-Options"), r.raw.end()) << path;
  }
  // The stranger's organization lists nothing: any site.
  EXPECT_EQ(frame_ancestors(get("/embed/" + theirs_)), "*");

  set_embed_origins({});
  EXPECT_EQ(frame_ancestors(get("/embed/" + public_)), "*");
  // Every other page keeps the default.
  for (const std::string& path :
       {"/v/" + public_, std::string("/"), std::string("/o/acme-videos"), "/api/videos/" + public_}) {
    auto r = get(path, path.starts_with("/api/") ? owner_.token : "");
    EXPECT_EQ(frame_ancestors(r), "'none'") << path;
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY") << path;
  }
}

TEST_F(sharing_pages, share_page_has_link_preview_tags_with_everything_escaped) {
  const std::string title = "He said \"hi\" <script>alert(1)</script> & more";
  const std::string escaped = "He said &quot;hi&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; more";
  auto patch = call_json(port(), "PATCH", "/api/videos/" + public_, owner_.token,
                         {{"title", title}, {"description", "It's <b>bold</b> & 'quoted'"}});
  ASSERT_EQ(patch.status(), 200) << patch.raw.body();
  auto r = get("/v/" + public_);
  ASSERT_EQ(r.status(), 200) << r.raw.body();
  const std::string& html = r.raw.body();
  EXPECT_FALSE(has(html, "<script>alert(1)")) << html;
  EXPECT_FALSE(has(html, "<b>bold"));
  const std::string base = "http://127.0.0.1";
  auto tag = [&](const std::string& attr, const std::string& key, const std::string& value) {
    return "<meta " + attr + "=\"" + key + "\" content=\"" + value + "\">";
  };
  for (const auto& expected : {
           tag("property", "og:title", escaped),
           tag("property", "og:description", "It&#39;s &lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39;"),
           tag("property", "og:type", "video.other"),
           tag("property", "og:url", base + "/v/" + public_),
           tag("property", "og:image", base + "/api/stream/" + public_ + "/thumbnail.jpg"),
           tag("property", "og:image:width", "320"),
           tag("property", "og:image:height", "240"),
           tag("property", "og:video", base + "/api/stream/" + public_ + "/video"),
           tag("property", "og:video:secure_url", base + "/api/stream/" + public_ + "/video"),
           tag("property", "og:video:type", "video/mp4"),
           tag("property", "og:video:width", "320"),
           tag("property", "og:video:height", "240"),
           tag("property", "video:duration", "2"),
           tag("name", "twitter:card", "player"),
           tag("name", "twitter:player", base + "/embed/" + public_),
           tag("name", "twitter:player:width", "320"),
           tag("name", "twitter:player:height", "240"),
           "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"" + base +
               "/oembed?url=http%3A%2F%2F127.0.0.1%2Fv%2F" + public_ + "&amp;format=json\" title=\"" + escaped + "\">",
           "<title>" + escaped + "</title>",
           "<h1 class=\"title\">" + escaped + "</h1>",
           "aria-label=\"" + escaped + "\"",
       })
    EXPECT_TRUE(has(html, expected)) << expected << "\n" << html;
  // The oEmbed link it advertises answers.
  auto oembed = get("/oembed?url=http%3A%2F%2F127.0.0.1%2Fv%2F" + public_ + "&format=json");
  EXPECT_EQ(oembed.status(), 200);
  EXPECT_EQ(oembed.json.at("title").as_string(), title);

  // Behind a trusted proxy that says https, links are https; the Host names the server.
  EXPECT_TRUE(has(get("/v/" + public_, "", {{"X-Forwarded-Proto", "https"}}).raw.body(),
                  "content=\"https://127.0.0.1/v/" + public_ + "\""));
  EXPECT_TRUE(has(get("/v/" + public_, "", {{"X-Forwarded-Proto", "ftp"}}).raw.body(),
                  "content=\"http://127.0.0.1/v/" + public_ + "\""));
  ASSERT_EQ(call_json(port(), "PATCH", "/api/videos/" + public_, owner_.token, {{"title", "Public one"}}).status(),
            200);
}

TEST_F(sharing_pages, share_page_of_a_private_video_is_404_without_access_and_carries_the_link) {
  auto anonymous = get("/v/" + private_);
  EXPECT_EQ(anonymous.status(), 404);
  EXPECT_FALSE(has(anonymous.raw.body(), "Private one"));
  EXPECT_EQ(get("/v/" + private_, stranger_.token).status(), 404);
  EXPECT_EQ(get("/v/" + private_ + "?token=nope").status(), 403);
  std::string token = signed_token(private_);
  auto r = get("/v/" + private_ + "?token=" + token);
  ASSERT_EQ(r.status(), 200);
  EXPECT_TRUE(has(r.raw.body(), "property=\"og:image\" content=\"http://127.0.0.1/api/stream/" + private_ +
                                    "/thumbnail.jpg?token=" + token + "\""));
  EXPECT_TRUE(has(r.raw.body(),
                  "name=\"twitter:player\" content=\"http://127.0.0.1/embed/" + private_ + "?token=" + token + "\""));
  EXPECT_EQ(get("/v/" + unlisted_).status(), 200);
  EXPECT_EQ(get("/v/" + broken_).status(), 409);
}

TEST_F(sharing_pages, oembed_answers_the_video_type_of_oembed_1_0) {
  auto r = get("/oembed?url=https%3A%2F%2Fwhatever.example%2Fv%2F" + public_ + "&format=json");
  ASSERT_EQ(r.status(), 200) << r.raw.body();
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u);
  const auto& o = r.json.as_object();
  EXPECT_EQ(o.at("type").as_string(), "video");
  EXPECT_EQ(o.at("version").as_string(), "1.0");
  EXPECT_EQ(o.at("title").as_string(), "Public one");
  EXPECT_EQ(o.at("provider_name").as_string(), "reel");
  EXPECT_EQ(o.at("provider_url").as_string(), "http://127.0.0.1/");
  EXPECT_EQ(o.at("thumbnail_url").as_string(), "http://127.0.0.1/api/stream/" + public_ + "/thumbnail.jpg");
  EXPECT_EQ(o.at("thumbnail_width").as_int64(), 320);
  EXPECT_EQ(o.at("thumbnail_height").as_int64(), 240);
  EXPECT_EQ(o.at("width").as_int64(), 640);  // the default width, at 4:3
  EXPECT_EQ(o.at("height").as_int64(), 480);
  EXPECT_EQ(o.at("html").as_string(), "<iframe src=\"http://127.0.0.1/embed/" + public_ +
                                          "\" width=\"640\" height=\"480\" frameborder=\"0\" allow=\"autoplay; "
                                          "fullscreen; picture-in-picture\" allowfullscreen title=\"Public one\">"
                                          "</iframe>");
  EXPECT_FALSE(o.contains("author_name")) << "no member data";
  // The served page itself is fetched: it is the one that plays.
  EXPECT_EQ(get("/embed/" + public_).status(), 200);
}

TEST_F(sharing_pages, oembed_sizes_the_iframe_to_the_aspect_ratio_within_the_limits) {
  auto size = [&](const std::string& query) {
    auto r = get("/oembed?url=%2Fembed%2F" + unlisted_ + query);
    EXPECT_EQ(r.status(), 200) << query << r.raw.body();
    if (r.status() != 200) return std::pair<std::int64_t, std::int64_t>{0, 0};
    std::string html(r.json.at("html").as_string());
    auto w = r.json.at("width").as_int64(), h = r.json.at("height").as_int64();
    EXPECT_TRUE(has(html, "width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) + "\"")) << html;
    return std::pair{w, h};
  };
  EXPECT_EQ(size(""), (std::pair<std::int64_t, std::int64_t>{640, 480}));
  EXPECT_EQ(size("&maxwidth=300"), (std::pair<std::int64_t, std::int64_t>{300, 225}));
  EXPECT_EQ(size("&maxheight=100"), (std::pair<std::int64_t, std::int64_t>{133, 100}));
  EXPECT_EQ(size("&maxwidth=300&maxheight=500"), (std::pair<std::int64_t, std::int64_t>{300, 225}));
  EXPECT_EQ(size("&maxwidth=1000&maxheight=300"), (std::pair<std::int64_t, std::int64_t>{400, 300}));
  EXPECT_EQ(size("&maxwidth=1"), (std::pair<std::int64_t, std::int64_t>{1, 1}));
}

TEST_F(sharing_pages, oembed_refuses_bad_input_and_hides_private_videos) {
  auto expect = [&](const std::string& query, unsigned status, const std::string& code) {
    auto r = get("/oembed" + query);
    EXPECT_EQ(r.status(), status) << query << " " << r.raw.body();
    EXPECT_EQ(r.error_code(), code) << query;
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*") << query;
  };
  const std::string url = "?url=%2Fv%2F" + public_;
  expect(url + "&format=xml", 501, "not_implemented");
  expect(url + "&format=yaml", 400, "bad_request");
  for (std::string bad : {"0", "-5", "abc", "10001", "1.5", "", "99999999999999999999"}) {
    expect(url + "&maxwidth=" + bad, 400, "bad_request");
    expect(url + "&maxheight=" + bad, 400, "bad_request");
  }
  expect("", 400, "bad_request");
  expect("?format=json", 400, "bad_request");
  expect("?url=", 400, "bad_request");
  expect("?url=%2Fo%2Facme-videos", 404, "not_found");
  expect("?url=ftp%3A%2F%2Fh%2Fv%2F" + public_, 404, "not_found");
  expect("?url=%2Fv%2FdoesNotExist123", 404, "not_found");
  expect("?url=%2Fv%2F" + private_, 404, "not_found");
  expect("?url=%2Fv%2F" + theirs_ + "x", 404, "not_found");
  // A member's credentials do not matter: the answer is for everyone.
  auto member = get("/oembed?url=%2Fv%2F" + private_, owner_.token);
  EXPECT_EQ(member.status(), 404);
  // A signed link inside the url plays, and the iframe carries it.
  std::string token = signed_token(private_);
  auto linked = get("/oembed?url=" + std::string("http%3A%2F%2Fx%2Fv%2F") + private_ + "%3Ftoken%3D" + token);
  ASSERT_EQ(linked.status(), 200) << linked.raw.body();
  EXPECT_TRUE(has(std::string(linked.json.at("html").as_string()), "/embed/" + private_ + "?token=" + token));
  EXPECT_TRUE(has(std::string(linked.json.at("thumbnail_url").as_string()), "?token=" + token));
  EXPECT_EQ(get("/oembed?url=%2Fv%2F" + broken_).status(), 409);
}

std::vector<std::string> ids_in(const api_reply& r) {
  std::vector<std::string> out;
  for (const auto& v : r.json.at("videos").as_array()) out.emplace_back(v.at("id").as_string());
  return out;
}

TEST_F(sharing_pages, public_organization_api_lists_public_ready_videos_without_member_data) {
  auto org = get("/api/public/orgs/acme-videos");
  ASSERT_EQ(org.status(), 200) << org.raw.body();
  EXPECT_EQ(json::serialize(org.json), R"({"organization":{"name":"Acme","slug":"acme-videos"}})");
  EXPECT_EQ(get("/api/public/orgs/no-such-org").status(), 404);
  EXPECT_EQ(get("/api/public/orgs/no-such-org/videos").error_code(), "not_found");
  EXPECT_EQ(get("/api/public/orgs/NOT_A_SLUG/videos").status(), 404);

  auto list = get("/api/public/orgs/acme-videos/videos");
  ASSERT_EQ(list.status(), 200) << list.raw.body();
  EXPECT_EQ(list.header("Cache-Control"), "public, max-age=30");
  EXPECT_EQ(ids_in(list), std::vector<std::string>{public_}) << list.raw.body();
  const auto& v = list.json.at("videos").at(0).as_object();
  std::set<std::string> keys;
  for (const auto& kv : v) keys.emplace(kv.key());
  EXPECT_EQ(keys, (std::set<std::string>{"id", "title", "description", "durationSec", "width", "height", "thumbnailUrl",
                                         "shareUrl", "embedUrl", "createdAt", "viewCount"}));
  EXPECT_EQ(v.at("shareUrl").as_string(), "http://127.0.0.1/v/" + public_);
  EXPECT_EQ(v.at("embedUrl").as_string(), "http://127.0.0.1/embed/" + public_);
  EXPECT_EQ(v.at("thumbnailUrl").as_string(), "http://127.0.0.1/api/stream/" + public_ + "/thumbnail.jpg");
  EXPECT_EQ(v.at("width").as_int64(), 320);
  for (const char* secret :
       {"owner@example.com", "createdBy", "organizationId", "clip.mp4", owner_.user_id.c_str(), owner_.org_id.c_str()})
    EXPECT_FALSE(has(list.raw.body(), secret)) << secret;
  EXPECT_TRUE(list.json.at("nextCursor").is_null());

  // Another organization's slug: only its public videos.
  EXPECT_EQ(ids_in(get("/api/public/orgs/elsewhere/videos")), std::vector<std::string>{theirs_});
  for (const char* bad : {"?limit=0", "?limit=101", "?limit=x", "?cursor=zz", "?cursor=6162"})
    EXPECT_EQ(get(std::string("/api/public/orgs/acme-videos/videos") + bad).error_code(), "bad_request") << bad;
}

TEST_F(sharing_pages, public_lists_page_newest_first_and_show_changes_at_once) {
  auto p = port();
  // Unlisted → public: seen at once despite the cache (the organization's event drops it).
  ASSERT_EQ(get("/api/public/orgs/acme-videos/videos?limit=1").status(), 200);
  ASSERT_EQ(call_json(p, "PATCH", "/api/videos/" + unlisted_, owner_.token, {{"visibility", "public"}}).status(), 200);
  auto first = get("/api/public/orgs/acme-videos/videos?limit=1");
  ASSERT_EQ(first.status(), 200);
  EXPECT_EQ(ids_in(first), std::vector<std::string>{unlisted_}) << "newest first";
  ASSERT_TRUE(first.json.at("nextCursor").is_string());
  std::string cursor(first.json.at("nextCursor").as_string());
  auto second = get("/api/public/orgs/acme-videos/videos?limit=1&cursor=" + cursor);
  EXPECT_EQ(ids_in(second), std::vector<std::string>{public_});
  EXPECT_TRUE(second.json.at("nextCursor").is_null());

  // The HTML page: the same data, with a next link.
  auto page = get("/o/acme-videos?limit=1");
  ASSERT_EQ(page.status(), 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(has(page.raw.body(), "<a href=\"/v/" + unlisted_ + "\">")) << page.raw.body();
  EXPECT_TRUE(has(page.raw.body(), "Unlisted one"));
  EXPECT_TRUE(has(page.raw.body(), "<a rel=\"next\" class=\"next\" href=\"/o/acme-videos?cursor=" + cursor));
  auto all = get("/o/acme-videos");
  EXPECT_TRUE(has(all.raw.body(), "/v/" + public_) && has(all.raw.body(), "/v/" + unlisted_));
  EXPECT_FALSE(has(all.raw.body(), private_) || has(all.raw.body(), broken_));
  EXPECT_FALSE(has(all.raw.body(), "rel=\"next\""));
  EXPECT_EQ(get("/o/no-such-org").status(), 404);

  // Back to unlisted: gone from the list at once.
  ASSERT_EQ(call_json(p, "PATCH", "/api/videos/" + unlisted_, owner_.token, {{"visibility", "unlisted"}}).status(),
            200);
  EXPECT_EQ(ids_in(get("/api/public/orgs/acme-videos/videos?limit=1")), std::vector<std::string>{public_});
  EXPECT_FALSE(has(get("/o/acme-videos").raw.body(), unlisted_));
}

}  // namespace

namespace {

TEST(sharing_pages_public_url, absolute_links_use_reel_public_url_whatever_the_host) {
  server_process s({}, {{"REEL_PUBLIC_URL", "https://videos.example.com/"}});
  auto p = s.port();
  auto owner = register_account(p, "owner@example.com", "Acme");
  auto clip = make_clip((fs::path(s.data_dir()).parent_path() / "clip.mp4").string());
  std::string id = id_of(upload(p, owner.token, clip, {{"title", "Hello"}, {"visibility", "public"}}));
  wait_for_processing(p, owner.token, id);
  auto page = call(p, "GET", "/v/" + id, "", "", {{"X-Forwarded-Proto", "http"}});
  ASSERT_EQ(page.status(), 200);
  EXPECT_TRUE(has(page.raw.body(),
                  "<meta property=\"og:video\" content=\"https://videos.example.com/api/stream/" + id + "/video\">"))
      << page.raw.body();
  auto oembed = call(p, "GET", "/oembed?url=%2Fv%2F" + id);
  ASSERT_EQ(oembed.status(), 200);
  EXPECT_EQ(oembed.json.at("provider_url").as_string(), "https://videos.example.com/");
  EXPECT_TRUE(has(std::string(oembed.json.at("html").as_string()), "src=\"https://videos.example.com/embed/" + id));
}

}  // namespace
