// What every handler file of the API speaks in: coroutines that take the
// request context and return a response. Included by src/api/*.cpp only.
#pragma once

#include "http/message.hpp"
#include "http/router.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

namespace reel::api {

namespace asio = boost::asio;
namespace json = boost::json;
using http::context;
using http::response;
using http::status;

// `res`, marked never to be stored by caches (answers about an account or
// its secrets).
inline response no_store(response res) {
  res.set(http::field::cache_control, "no-store");
  return res;
}

}  // namespace reel::api
