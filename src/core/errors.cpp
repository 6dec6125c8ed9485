#include "core/errors.hpp"

#include <cerrno>

namespace reel {
namespace {

class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "reel"; }
  std::string message(int ev) const override { return std::string(code_name(static_cast<errc>(ev))); }
};

}  // namespace

const boost::system::error_category& reel_category() noexcept {
  static const category instance;
  return instance;
}

unsigned http_status_of(errc e) noexcept {
  switch (e) {
    case errc::bad_request:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::forbidden:
      return 403;
    case errc::not_found:
      return 404;
    case errc::method_not_allowed:
      return 405;
    case errc::request_timeout:
      return 408;
    case errc::conflict:
      return 409;
    case errc::gone:
      return 410;
    case errc::precondition_failed:
      return 412;
    case errc::payload_too_large:
      return 413;
    case errc::unsupported_media_type:
      return 415;
    case errc::range_not_satisfiable:
      return 416;
    case errc::too_many_requests:
      return 429;
    case errc::locked:
      return 423;
    case errc::request_header_fields_too_large:
      return 431;
    case errc::checksum_mismatch:
      return 460;
    case errc::internal:
      return 500;
    case errc::unavailable:
      return 503;
    case errc::insufficient_storage:
      return 507;
  }
  return 500;
}

std::string_view code_name(errc e) noexcept {
  switch (e) {
    case errc::bad_request:
      return "bad_request";
    case errc::unauthorized:
      return "unauthorized";
    case errc::forbidden:
      return "forbidden";
    case errc::not_found:
      return "not_found";
    case errc::method_not_allowed:
      return "method_not_allowed";
    case errc::request_timeout:
      return "request_timeout";
    case errc::conflict:
      return "conflict";
    case errc::gone:
      return "gone";
    case errc::precondition_failed:
      return "precondition_failed";
    case errc::payload_too_large:
      return "payload_too_large";
    case errc::unsupported_media_type:
      return "unsupported_media_type";
    case errc::range_not_satisfiable:
      return "range_not_satisfiable";
    case errc::too_many_requests:
      return "too_many_requests";
    case errc::locked:
      return "locked";
    case errc::request_header_fields_too_large:
      return "request_header_fields_too_large";
    case errc::checksum_mismatch:
      return "checksum_mismatch";
    case errc::internal:
      return "internal";
    case errc::unavailable:
      return "unavailable";
    case errc::insufficient_storage:
      return "insufficient_storage";
  }
  return "internal";
}

errc errc_of_errno(int err) noexcept {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return errc::insufficient_storage;
    case EMFILE:
    case ENFILE:
    case EIO:
    case ENOMEM:
    case ENOBUFS:
    case EAGAIN:
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

errc errc_of(const std::error_code& ec) noexcept {
  if (ec.category() != std::generic_category() && ec.category() != std::system_category()) return errc::internal;
  return errc_of_errno(ec.value());
}

errc errc_of(const std::exception& e) noexcept {
  if (auto* known = dynamic_cast<const error*>(&e)) return known->code();
  if (auto* failure = dynamic_cast<const internal_failure*>(&e)) return failure->code();
  if (auto* system = dynamic_cast<const std::system_error*>(&e)) return errc_of(system->code());
  return errc::internal;
}

}  // namespace reel
