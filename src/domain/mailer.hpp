// Sending email, as the domain sees it: a message to one address. The SMTP
// sender (src/mail) implements it when REEL_SMTP_URL is set; without it
// there is no mailer (a null pointer) and nothing is sent.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

namespace reel::domain {

struct mail_message {
  std::string to;       // one address, already validated
  std::string subject;  // one line
  std::string text;     // plain text body, UTF-8, lines ending in \n
};

class mailer {
 public:
  virtual ~mailer() = default;
  // Delivers `m` to the SMTP server (or queues it for delivery); throws
  // reel::error(unavailable) when the server cannot be reached or refuses.
  // Callers that must not reveal whether an address exists send in the
  // background and only log failures.
  virtual boost::asio::awaitable<void> send(mail_message m) = 0;
};

}  // namespace reel::domain
