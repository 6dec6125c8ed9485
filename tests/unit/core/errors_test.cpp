#include "core/errors.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

using reel::errc;

TEST(errors, every_code_has_the_status_and_name_of_the_api_table) {
  struct row {
    errc e;
    unsigned status;
    const char* name;
  };
  for (auto r :
       {row{errc::bad_request, 400, "bad_request"}, row{errc::unauthorized, 401, "unauthorized"},
        row{errc::forbidden, 403, "forbidden"}, row{errc::not_found, 404, "not_found"},
        row{errc::conflict, 409, "conflict"}, row{errc::payload_too_large, 413, "payload_too_large"},
        row{errc::unsupported_media_type, 415, "unsupported_media_type"},
        row{errc::range_not_satisfiable, 416, "range_not_satisfiable"},
        row{errc::too_many_requests, 429, "too_many_requests"}, row{errc::internal, 500, "internal"},
        row{errc::gone, 410, "gone"}, row{errc::precondition_failed, 412, "precondition_failed"},
        row{errc::locked, 423, "locked"}, row{errc::checksum_mismatch, 460, "checksum_mismatch"},
        row{errc::unavailable, 503, "unavailable"}, row{errc::insufficient_storage, 507, "insufficient_storage"}}) {
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

TEST(errors, a_full_volume_is_insufficient_storage_and_a_resource_running_out_unavailable) {
  EXPECT_EQ(reel::errc_of_errno(ENOSPC), errc::insufficient_storage);
  EXPECT_EQ(reel::errc_of_errno(EDQUOT), errc::insufficient_storage);
  for (int e : {EMFILE, ENFILE, EIO, ENOMEM, ENOBUFS, EAGAIN})
    EXPECT_EQ(reel::errc_of_errno(e), errc::unavailable) << e;
  // Absence means something only to the caller (a 404 of its own words); the rest is ours.
  for (int e : {ENOENT, ENOTDIR, EACCES, EINVAL, EEXIST, 0}) EXPECT_EQ(reel::errc_of_errno(e), errc::internal) << e;
}

TEST(errors, error_codes_map_by_errno_only_in_the_generic_and_system_categories) {
  EXPECT_EQ(reel::errc_of(std::error_code(ENOSPC, std::generic_category())), errc::insufficient_storage);
  EXPECT_EQ(reel::errc_of(std::error_code(EMFILE, std::system_category())), errc::unavailable);
  EXPECT_EQ(reel::errc_of(std::make_error_code(std::io_errc::stream)), errc::internal);
}

TEST(errors, an_exception_stands_for_its_own_code_or_its_errno) {
  EXPECT_EQ(reel::errc_of(reel::error(errc::locked, "x")), errc::locked);
  EXPECT_EQ(reel::errc_of(reel::internal_failure(errc::insufficient_storage, "SQLITE_FULL")),
            errc::insufficient_storage);
  EXPECT_EQ(reel::errc_of(std::system_error(EDQUOT, std::generic_category(), "write")), errc::insufficient_storage);
  EXPECT_EQ(reel::errc_of(std::filesystem::filesystem_error("mkdir", std::error_code(ENOSPC, std::generic_category()))),
            errc::insufficient_storage);
  EXPECT_EQ(reel::errc_of(std::system_error(ENFILE, std::generic_category(), "open")), errc::unavailable);
  EXPECT_EQ(reel::errc_of(std::runtime_error("x")), errc::internal);
}
