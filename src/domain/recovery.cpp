#include "domain/recovery.hpp"

#include "auth/tokens.hpp"
#include "core/async.hpp"
#include "core/errors.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "db/recovery.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

namespace reel::domain {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::hours k_window{1};

error invalid_link() {
  return error(errc::bad_request,
               "The field \"token\" is not a valid reset link: it is unknown, used already or expired. Ask for a new "
               "one.");
}

std::string in_words(std::chrono::seconds d) {
  auto n = d.count();
  if (n % 3600 == 0) return n == 3600 ? "1 hour" : std::to_string(n / 3600) + " hours";
  if (n % 60 == 0) return n == 60 ? "1 minute" : std::to_string(n / 60) + " minutes";
  return std::to_string(n) + " seconds";
}

}  // namespace

recovery::recovery(db::gateway& db, accounts& accounts, const clock& c, recovery_settings settings)
    : db_(db), accounts_(accounts), clock_(c), settings_(std::move(settings)) {}

asio::awaitable<recovery::issued> recovery::issue(const std::string& email, unsigned per_hour) {
  std::string token = auth::new_token();
  auto now = clock_.now();
  auto expires = now + settings_.link_ttl;
  db::password_reset r{ids::random_id(12), "", auth::hash_token(token), to_iso8601(now), to_iso8601(expires)};
  std::string since = to_iso8601(now - k_window);
  std::string url = settings_.public_url + "/#/reset-password/" + token;
  auto out = co_await db_.write([&](db::transaction& s) {
    issued i;
    auto u = db::find_user_by_email(s, email);
    if (!u) return i;
    db::lock_user(s, u->id);
    if (per_hour > 0 && db::count_password_resets_since(s, u->id, since) >= per_hour) {
      i.result = outcome::limited;
      i.link.user_id = u->id;
      return i;
    }
    r.user_id = u->id;
    db::insert_password_reset(s, r);
    i.result = outcome::issued;
    i.link = {url, expires, u->id, u->email, u->name};
    return i;
  });
  co_return out;
}

asio::awaitable<std::optional<recovery::reset_link>> recovery::issue_reset(const std::string& email) {
  auto out = co_await issue(email, /*per_hour=*/0);
  if (out.result != outcome::issued) co_return std::nullopt;
  log::info("password reset link made", {{"user", out.link.user_id}});
  co_return std::move(out.link);
}

mail_message recovery::reset_email(const reset_link& link) const {
  std::string text = "Hello " + link.name +
                     ",\n\n"
                     "someone, hopefully you, asked to reset the password of your reel account (" +
                     link.email + ").\n\nTo choose a new password, open this link within " +
                     in_words(settings_.link_ttl) + ":\n\n" + link.url +
                     "\n\n"
                     "The link works once. If you did not ask for it, ignore this email: your password stays as it "
                     "is.\n";
  return {link.email, "Reset your reel password", std::move(text)};
}

asio::awaitable<void> recovery::mail_reset(std::string email) {
  if (!mailer_) {
    log::warn("a password reset link was asked for, but no mailer is configured (REEL_SMTP_URL): nothing was sent");
    co_return;
  }
  auto out = co_await issue(email, settings_.emails_per_account_hour);
  if (out.result == outcome::no_account) co_return;
  if (out.result == outcome::limited) {
    log::info("password reset link not mailed: enough were this hour", {{"user", out.link.user_id}});
    co_return;
  }
  mail_message m = reset_email(out.link);
  co_await mailer_->send(std::move(m));
  log::info("password reset link queued for mailing", {{"user", out.link.user_id}});
}

asio::awaitable<void> recovery::request_reset(const std::string& email, const std::string& address) {
  auto wait = co_await accounts_.rates().take("forgot:address:" + address, settings_.requests_per_address_hour,
                                              std::chrono::duration_cast<std::chrono::seconds>(k_window));
  if (wait)
    throw error(errc::too_many_requests,
                "Too many password reset requests from this address; try again in " + std::to_string(wait->count()) +
                    " seconds.",
                *wait);
  auto ex = co_await asio::this_coro::executor;
  asio::co_spawn(ex, mail_reset(email), log_failure("mailing a password reset link"));
}

asio::awaitable<void> recovery::redeem(const std::string& token, const std::string& new_password) {
  if (!auth::is_token_shaped(token)) throw invalid_link();
  std::string hash = auth::hash_token(token);
  std::string now = to_iso8601(clock_.now());
  // A cheap look first: a bad token costs no password hashing.
  auto user_id = co_await db_.read([&](db::transaction& s) { return db::find_live_password_reset(s, hash, now); });
  if (!user_id) throw invalid_link();
  // The link is spent where the password changes: of two redemptions at
  // once (on any node), one sets its password, the other changes nothing.
  std::function<void(db::transaction&)> spend = [this, &hash, &user_id](db::transaction& s) {
    auto who = db::redeem_password_reset(s, hash, to_iso8601(clock_.now()));
    if (!who || *who != *user_id) throw invalid_link();
  };
  co_await accounts_.set_password(*user_id, new_password, std::move(spend));
  log::info("password reset", {{"user", *user_id}});
}

asio::awaitable<std::int64_t> recovery::sweep() {
  std::string before = to_iso8601(clock_.now());
  co_return co_await db_.write([&](db::transaction& s) { return db::delete_stale_password_resets(s, before); });
}

}  // namespace reel::domain
