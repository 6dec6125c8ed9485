// Password recovery: one-time links to choose a new password. The operator
// makes one with `reel user reset-password EMAIL`; a user asks for one by
// email (POST /api/auth/forgot) when reel has a mailer. Redeeming a link
// (POST /api/auth/reset) sets the new password and ends every session of
// the user on every node. Links last an hour, work once, and a newer link
// for the same user spends the older ones. Loop thread; the database and
// password hashing run elsewhere (accounts).
#pragma once

#include "core/clock.hpp"
#include "domain/accounts.hpp"
#include "domain/mailer.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

namespace reel::db {
class gateway;
}

namespace reel::domain {

struct recovery_settings {
  // Links are <public_url>/#/reset-password/<token> (the web UI's page): in
  // the fragment, which browsers do not send, so the token stays out of
  // servers' logs.
  std::string public_url = "http://localhost:8080";
  std::chrono::seconds link_ttl{3600};
  // Links mailed for one account within an hour, at most; further requests
  // are answered alike and mail nothing (no mail-bombing).
  unsigned emails_per_account_hour = 3;
  // Requests for links from one client address within an hour, at most;
  // beyond, error(too_many_requests). Counted by every node together
  // (accounts' rate limiter).
  unsigned requests_per_address_hour = 10;
};

class recovery {
 public:
  recovery(db::gateway& db, accounts& accounts, const clock& c, recovery_settings settings = {});

  struct reset_link {
    std::string url;  // with the token
    sys_time expires_at;
    std::string user_id, email, name;
  };

  // A new link for the account with `email` (trimmed and lower-cased by the
  // caller), spending its earlier ones; nullopt when no account has it.
  boost::asio::awaitable<std::optional<reset_link>> issue_reset(const std::string& email);

  // The self-service path. Counts the request against `address`
  // (error(too_many_requests) with Retry-After past the limit), then returns
  // at once; in the background, when there is a mailer, an account has
  // `email` and it was mailed fewer than emails_per_account_hour links in
  // the last hour, a link is made and mailed. So the caller's answer and its
  // timing say nothing about the account.
  boost::asio::awaitable<void> request_reset(const std::string& email, const std::string& address);

  // Sets `new_password` (validated by the caller) for the user of `token`
  // and ends every session of that user; the link is spent in the same
  // transaction. error(bad_request) for a token that is malformed, unknown,
  // used, spent by a newer link or expired (alike).
  boost::asio::awaitable<void> redeem(const std::string& token, const std::string& new_password);

  // Where links are mailed from; null (the default): no email is sent.
  // `m` must outlive this object.
  void use_mailer(mailer* m) noexcept { mailer_ = m; }

  // Where links point from now on (the server learns its port late).
  void set_public_url(std::string url) { settings_.public_url = std::move(url); }

  // Removes links that expired.
  boost::asio::awaitable<std::int64_t> sweep();

  // The text of the email that carries `link` (tests read it back).
  mail_message reset_email(const reset_link& link) const;

 private:
  enum class outcome { issued, no_account, limited };
  struct issued {
    outcome result = outcome::no_account;
    reset_link link;
  };
  // `per_hour` > 0: no link when that many were made for the account in the last hour.
  boost::asio::awaitable<issued> issue(const std::string& email, unsigned per_hour);
  boost::asio::awaitable<void> mail_reset(std::string email);

  db::gateway& db_;
  accounts& accounts_;
  const clock& clock_;
  recovery_settings settings_;
  mailer* mailer_ = nullptr;
};

}  // namespace reel::domain
