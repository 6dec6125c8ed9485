// The HTTP(S) client that posts one webhook: asynchronous on the loop
// (resolution runs on Asio's resolver thread), one connection per
// attempt, no redirects followed.
//
// Safety: every resolved address is checked before the connection
// (private_address_reason) unless private targets are allowed, and only the
// checked addresses are connected to, so a name that resolves to a public
// address when the URL is saved and to a private one later is refused at
// connect time. HTTPS verifies the certificate against the system's CA
// store and the host name. The connection must be made within
// connect_timeout, the whole exchange within total_timeout; at most
// max_body bytes of the response body are read.
#pragma once

#include "webhooks/targets.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reel::webhooks {

struct client_options {
  bool allow_private = false;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{15'000};
  std::size_t max_body = 64 * 1024;
};

// What one POST saw: a status (and up to max_body bytes of body) when the
// server answered, else an error for the delivery log.
struct post_result {
  std::optional<int> status;
  std::string body;
  std::optional<std::string> error;
  bool refused = false;  // a private address, not tried
  std::chrono::milliseconds latency{0};
};

// The TLS settings of webhook connections: the system's CA store, peer verification.
boost::asio::ssl::context make_client_tls();

// POSTs `body` (application/json) with `headers` to `url`. Never throws for
// a failure of the network or the server: it is in the result.
boost::asio::awaitable<post_result> post(boost::asio::ssl::context& tls, const target_url& url,
                                         const std::vector<std::pair<std::string, std::string>>& headers,
                                         const std::string& body, const client_options& options);

}  // namespace reel::webhooks
