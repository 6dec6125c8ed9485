#include "core/errors.hpp"

#include <gtest/gtest.h>

using reel::errc;

TEST(errors, every_code_has_the_status_and_name_of_the_api_table) {
  struct row {
    errc e;
    unsigned status;
    const char* name;
  };
  for (auto r : {row{errc::bad_request, 400, "bad_request"}, row{errc::unauthorized, 401, "unauthorized"},
                 row{errc::forbidden, 403, "forbidden"}, row{errc::not_found, 404, "not_found"},
                 row{errc::conflict, 409, "conflict"}, row{errc::payload_too_large, 413, "payload_too_large"},
                 row{errc::unsupported_media_type, 415, "unsupported_media_type"},
                 row{errc::range_not_satisfiable, 416, "range_not_satisfiable"},
                 row{errc::too_many_requests, 429, "too_many_requests"}, row{errc::internal, 500, "internal"},
                 row{errc::gone, 410, "gone"}, row{errc::precondition_failed, 412, "precondition_failed"},
                 row{errc::locked, 423, "locked"}, row{errc::checksum_mismatch, 460, "checksum_mismatch"},
                 row{errc::unavailable, 503, "unavailable"}}) {
    EXPECT_EQ(reel::http_status_of(r.e), r.status) << r.name;
    EXPECT_EQ(reel::code_name(r.e), r.name);
  }
}

TEST(errors, errc_converts_to_error_code_in_the_reel_category) {
  boost::system::error_code ec = errc::not_found;
  EXPECT_EQ(ec.category().name(), std::string("reel"));
  EXPECT_EQ(ec.message(), "not_found");
  reel::result<int> r = ec;
  EXPECT_TRUE(r.has_error());
}
