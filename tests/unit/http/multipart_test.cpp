#include "http/multipart.hpp"

#include "core/errors.hpp"

#include <gtest/gtest.h>

using namespace reel::http;
using namespace std::string_literals;

namespace {

struct multipart_recorder : multipart_parser::sink {
  struct part {
    multipart_parser::part_info info;
    std::string data;
    bool ended = false;
  };
  std::vector<part> parts;
  void on_part_begin(const multipart_parser::part_info& p) override { parts.push_back({p, "", false}); }
  void on_part_data(std::string_view b) override { parts.back().data.append(b); }
  void on_part_end() override { parts.back().ended = true; }
};

const std::string k_body =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
    "My clip\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".mp4\"\r\n"
    "Content-Type: video/mp4\r\n\r\n"
    "\x00\x01--XyZ not a boundary\r\n--Xy\r\nend"
    "\r\n--XyZ--\r\nepilogue"s;

void check(const multipart_recorder& r) {
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].info.name, "title");
  EXPECT_EQ(r.parts[0].data, "My clip");
  EXPECT_EQ(r.parts[1].info.name, "file");
  EXPECT_EQ(r.parts[1].info.filename, "a \"b\".mp4");
  EXPECT_EQ(r.parts[1].info.content_type, "video/mp4");
  EXPECT_EQ(r.parts[1].data, "\x00\x01--XyZ not a boundary\r\n--Xy\r\nend"s);
  EXPECT_TRUE(r.parts[1].ended);
}

}  // namespace

TEST(multipart, whole_body_in_one_chunk) {
  multipart_recorder r;
  multipart_parser p("XyZ", r);
  p.feed(std::string_view(k_body.data(), k_body.size()));
  p.finish();
  check(r);
}

TEST(multipart, every_split_point_gives_the_same_parts) {
  for (std::size_t cut = 0; cut <= k_body.size(); ++cut) {
    multipart_recorder r;
    multipart_parser p("XyZ", r);
    p.feed(std::string_view(k_body).substr(0, cut));
    p.feed(std::string_view(k_body).substr(cut));
    p.finish();
    check(r);
  }
}

TEST(multipart, byte_by_byte) {
  multipart_recorder r;
  multipart_parser p("XyZ", r);
  for (char c : k_body) p.feed(std::string_view(&c, 1));
  p.finish();
  check(r);
}

TEST(multipart, truncated_body_is_refused) {
  multipart_recorder r;
  multipart_parser p("XyZ", r);
  p.feed(k_body.substr(0, k_body.size() - 20));
  EXPECT_THROW(p.finish(), reel::error);
}

TEST(multipart, malformed_bodies_are_refused) {
  auto fails = [](std::string body) {
    multipart_recorder r;
    multipart_parser p("b", r);
    try {
      p.feed(body);
      p.finish();
    } catch (const reel::error& e) {
      return e.code() == reel::errc::bad_request;
    }
    return false;
  };
  EXPECT_TRUE(fails("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"));  // no Content-Disposition
  EXPECT_TRUE(fails("--bGARBAGE"));
  EXPECT_TRUE(fails("--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nx\r\n--b--"));
  EXPECT_TRUE(fails("--b\r\n" + std::string(10000, 'h') + "\r\n\r\n"));
  EXPECT_TRUE(fails("no boundary at all"));
}

TEST(multipart, boundary_from_content_type) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKit123"), "----WebKit123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\""), "a b");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=x"), std::nullopt);
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')), std::nullopt);
}

TEST(multipart, rfc5987_filename_wins) {
  multipart_recorder r;
  multipart_parser p("b", r);
  p.feed(
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.mp4\"; "
      "filename*=UTF-8''%C3%A9t%C3%A9.mp4\r\n\r\nz\r\n--b--");
  p.finish();
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].info.filename, "\xc3\xa9t\xc3\xa9.mp4");
}
