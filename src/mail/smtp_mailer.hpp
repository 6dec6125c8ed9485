// The domain's mailer over SMTP (REEL_SMTP_URL): messages wait in a bounded
// queue in this process and are delivered in the background, a few at a
// time, each in an SMTP session of its own (mail::deliver). A temporary
// failure (4xx, a network error, a timeout) is tried again later with a
// growing delay; a permanent one (5xx) and the last failed try are logged
// and the message is dropped. Nothing here blocks the loop. Loop thread only.
#pragma once

#include "core/clock.hpp"
#include "domain/mailer.hpp"
#include "mail/message.hpp"
#include "mail/smtp_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace reel::mail {

struct mailer_settings {
  // The From of every message ("reel <reel@example.com>", REEL_SMTP_FROM).
  std::string from = "reel <reel@localhost>";
  // Messages waiting or being delivered, at most; send() refuses beyond.
  std::size_t queue_capacity = 1000;
  // Deliveries at once (each an SMTP connection).
  unsigned connections = 2;
  // Tries per message, and the delay before the second one; each further
  // delay is four times the one before (5 s, 20 s, 80 s by default).
  unsigned attempts = 4;
  std::chrono::milliseconds retry_base{5'000};
  smtp_options smtp;
};

class smtp_mailer final : public domain::mailer {
 public:
  // `tls` comes from mail::tls_context (made at start-up).
  smtp_mailer(boost::asio::any_io_executor ex, const clock& c, smtp_server server,
              std::unique_ptr<boost::asio::ssl::context> tls, mailer_settings settings = {});
  ~smtp_mailer() override;
  smtp_mailer(const smtp_mailer&) = delete;
  smtp_mailer& operator=(const smtp_mailer&) = delete;

  // Composes `m` and queues it; returns at once, before the delivery.
  // Throws error(bad_request) when a header would hold a line break or the
  // recipient is not one address (nothing is queued), error(unavailable)
  // when the queue is full.
  boost::asio::awaitable<void> send(domain::mail_message m) override;

  // Stops: nothing more is sent (deliveries under way end by their
  // deadlines); what waits is dropped and counted in failed(). Idempotent.
  void stop();

  // Messages the server accepted; messages given up (permanent failure,
  // last try failed, dropped at stop()); messages waiting or under way.
  std::uint64_t delivered() const noexcept;
  std::uint64_t failed() const noexcept;
  std::size_t pending() const noexcept;

  struct state;  // what the background deliveries share with this object

 private:
  std::shared_ptr<state> state_;
};

}  // namespace reel::mail
