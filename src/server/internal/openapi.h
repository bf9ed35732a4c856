#pragma once
// The OpenAPI 3.0 document of the API (src/server/openapi.json), embedded at
// build time and served at GET /v1/openapi.json.

#include <string_view>

namespace rapport::server::internal {
extern const std::string_view kOpenApiJson;
}  // namespace rapport::server::internal
