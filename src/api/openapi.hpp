// GET /api/openapi.json: the OpenAPI 3.1 document of the HTTP API
// (docs/openapi.json, compiled into the binary; docs/api-openapi.md).
#pragma once

#include "http/router.hpp"

#include <string_view>

namespace reel::api {

// docs/openapi.json as it was when the binary was built, and its strong
// ETag (a quoted prefix of its SHA-256). Defined in a source file that the
// build generates from docs/openapi.json (cmake/embed_openapi.cmake).
std::string_view openapi_document();
std::string_view openapi_etag();

// GET /api/openapi.json: the document, no authentication, revalidated with
// its ETag (304 for a matching If-None-Match).
void add_openapi_route(http::router& r);

}  // namespace reel::api
