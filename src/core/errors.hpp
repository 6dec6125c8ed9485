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
#include <system_error>

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
  insufficient_storage,
};

const boost::system::error_category& reel_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), reel_category()}; }

// The HTTP status that answers `e`, e.g. 404 for errc::not_found.
unsigned http_status_of(errc e) noexcept;

// The wire name of `e` in the error body, e.g. "not_found".
std::string_view code_name(errc e) noexcept;

// What a failed system call's errno means for the request it served:
// insufficient_storage for a full volume or quota (ENOSPC, EDQUOT);
// unavailable for a resource that runs out for a while or a device that
// fails (EMFILE, ENFILE, EIO, ENOMEM, ENOBUFS, EAGAIN); internal otherwise.
// The one place these errnos are given a meaning.
errc errc_of_errno(int err) noexcept;

// The same for a std::error_code: errc_of_errno for the generic and system
// categories, internal for any other.
errc errc_of(const std::error_code& ec) noexcept;

// The errc an exception stands for: its own code for error and
// internal_failure (db::db_error), errc_of(code) for a std::system_error
// (std::filesystem::filesystem_error too), internal for anything else.
errc errc_of(const std::exception& e) noexcept;

// The client's message for errc::insufficient_storage.
inline constexpr std::string_view k_out_of_storage = "The server is out of storage.";

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
