#include "api/openapi.hpp"

#include "api/handler.hpp"
#include "http/file_response.hpp"

namespace reel::api {

void add_openapi_route(http::router& r) {
  r.add(http::verb::get, "/api/openapi.json", [](context& ctx) -> asio::awaitable<response> {
    const std::string etag(openapi_etag());
    auto inm = ctx.header(http::field::if_none_match);
    response res = !inm.empty() && http::none_match(inm, etag)
                       ? http::empty_response(status::not_modified)
                       : http::json_text_response(status::ok, std::string(openapi_document()));
    res.set(http::field::etag, etag);
    res.set(http::field::cache_control, "public, max-age=300");
    // Public, without credentials: API tools of any site may read it (an
    // origin of REEL_CORS_ORIGINS gets its credentialed answer instead).
    if (res.find(http::field::access_control_allow_origin) == res.end())
      res.set(http::field::access_control_allow_origin, "*");
    co_return res;
  });
}

}  // namespace reel::api
