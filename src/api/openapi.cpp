#include "api/openapi.hpp"

#include "api/handler.hpp"
#include "http/file_response.hpp"

namespace reel::api {

void add_openapi_route(http::router& r) {
  r.add(http::verb::get, "/api/openapi.json", [](context& ctx) -> asio::awaitable<response> {
    const std::string etag(openapi_etag());
    if (auto inm = ctx.header(http::field::if_none_match); !inm.empty() && http::none_match(inm, etag)) {
      response res = http::empty_response(status::not_modified);
      res.set(http::field::etag, etag);
      res.set(http::field::cache_control, "public, max-age=300");
      co_return res;
    }
    response res = http::json_text_response(status::ok, std::string(openapi_document()));
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, "public, max-age=300");
    co_return res;
  });
}

}  // namespace reel::api
