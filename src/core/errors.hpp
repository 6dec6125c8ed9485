// Error values shared by every module: the `errc` codes of docs/API.md, their
// HTTP statuses and wire names, and the `error` exception that request
// handlers throw to answer with API.md's error shape.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reel {

// One value per row of API.md's error table (plus the HTTP-level ones the
// server core produces itself). The numeric values are not part of any contract.
enum class errc {
  bad_request = 1,
  unauthorized,
  forbidden,
  not_found,
  method_not_allowed,
  request_timeout,
  conflict,
  gone,
  precondition_failed,
  payload_too_large,
  unsupported_media_type,
  range_not_satisfiable,
  too_many_requests,
  locked,
  request_header_fields_too_large,
  checksum_mismatch,
  internal,
  unavailable,
};

const boost::system::error_category& reel_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), reel_category()}; }

// The HTTP status that answers `e`, e.g. 404 for errc::not_found.
unsigned http_status_of(errc e) noexcept;

// The wire name of `e` in the error body, e.g. "not_found".
std::string_view code_name(errc e) noexcept;

template <class T>
using result = boost::system::result<T>;

// Thrown by handlers and middleware; the error middleware turns it into
// `{"error": {"code", "message"}}` with the matching status. The message is
// shown to the client, so it must never contain internals.
class error : public std::runtime_error {
 public:
  error(errc code, std::string message, std::optional<std::chrono::seconds> retry_after = std::nullopt)
      : std::runtime_error(std::move(message)), code_(code), retry_after_(retry_after) {}
  errc code() const noexcept { return code_; }
  // For too_many_requests and unavailable: the Retry-After the client gets.
  std::optional<std::chrono::seconds> retry_after() const noexcept { return retry_after_; }

 private:
  errc code_;
  std::optional<std::chrono::seconds> retry_after_;
};

// A failure below the domain that carries an errc but whose what() is for
// the log only (a driver's message, a path): the error middleware answers it
// by its code with a message of its own and logs the detail. db::db_error is one.
class internal_failure : public std::runtime_error {
 public:
  internal_failure(errc code, const std::string& detail) : std::runtime_error(detail), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace reel

template <>
struct boost::system::is_error_code_enum<reel::errc> : std::true_type {};
