#include "domain/downloads.hpp"

#include <gtest/gtest.h>

using namespace reel;
using domain::choose_download;
using domain::offered_downloads;

namespace {

model::video downloads_ready_video() {
  model::video v;
  v.width = 1920;
  v.height = 1080;
  // In the ladder's order (smallest first), as processing writes it.
  v.renditions = R"([{"name":"360p","width":640,"height":360,"bandwidth":1},)"
                 R"({"name":"1080p","width":1920,"height":1080,"bandwidth":3},)"
                 R"({"name":"720p","width":1280,"height":720,"bandwidth":2}])";
  return v;
}

model::organization org_with(std::string renditions, bool source) {
  model::organization o;
  o.download_renditions = std::move(renditions);
  o.download_source = source;
  return o;
}

std::vector<std::string> names(const std::vector<domain::download_offer>& offers) {
  std::vector<std::string> out;
  for (const auto& o : offers) out.push_back(o.rendition);
  return out;
}

}  // namespace

TEST(downloads, offers_follow_the_organization_setting) {
  auto v = downloads_ready_video();
  EXPECT_EQ(names(offered_downloads(org_with("highest", false), v)), (std::vector<std::string>{"1080p"}));
  EXPECT_EQ(names(offered_downloads(org_with("all", true), v)),
            (std::vector<std::string>{"1080p", "720p", "360p", "source"}));
  EXPECT_EQ(names(offered_downloads(org_with("none", true), v)), (std::vector<std::string>{"source"}));
  EXPECT_TRUE(offered_downloads(org_with("none", false), v).empty());
  auto all = offered_downloads(org_with("all", true), v);
  EXPECT_TRUE(all[0].is_default);
  EXPECT_FALSE(all[1].is_default);
  EXPECT_EQ(all[3].width, 1920);
  EXPECT_EQ(all[1].height, 720);
}

TEST(downloads, the_default_and_the_refusals) {
  auto v = downloads_ready_video();
  EXPECT_EQ(choose_download(org_with("highest", true), v, std::nullopt).rendition, "1080p");
  EXPECT_EQ(choose_download(org_with("none", true), v, std::nullopt).rendition, "source");
  EXPECT_EQ(choose_download(org_with("all", false), v, std::string("360p")).rendition, "360p");
  auto code_of = [&](const model::organization& o, std::optional<std::string> r) {
    try {
      choose_download(o, v, r);
    } catch (const error& e) {
      return e.code();
    }
    return errc::internal;
  };
  EXPECT_EQ(code_of(org_with("none", false), std::nullopt), errc::forbidden);
  EXPECT_EQ(code_of(org_with("highest", false), std::string("360p")), errc::forbidden);
  EXPECT_EQ(code_of(org_with("highest", false), std::string("source")), errc::forbidden);
  EXPECT_EQ(code_of(org_with("all", true), std::string("480p")), errc::bad_request);
  // A video without renditions (not processed): only the source can be offered.
  model::video bare;
  bare.renditions = "not json";
  EXPECT_TRUE(offered_downloads(org_with("all", false), bare).empty());
  EXPECT_EQ(choose_download(org_with("all", true), bare, std::nullopt).rendition, "source");
}

TEST(downloads, rendition_names) {
  EXPECT_TRUE(domain::valid_rendition_name("720p"));
  EXPECT_TRUE(domain::valid_rendition_name("source"));
  EXPECT_TRUE(domain::valid_rendition_name(std::string(16, 'a')));
  for (const std::string& bad :
       std::vector<std::string>{"", "720P", "../720p", "720p/", "a b", std::string(17, 'a'), std::string("7\0", 2)})
    EXPECT_FALSE(domain::valid_rendition_name(bad)) << bad;
}
