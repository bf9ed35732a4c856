#pragma once
// The one place a failure becomes an HTTP response: an RFC 9457
// application/problem+json document with type, title, status, detail,
// instance, and an "errors" extension naming the offending field (a JSON
// pointer into the body) or parameter (path or query).

#include <string>
#include <string_view>

#include "common/status.h"
#include "server/internal/http.h"

namespace rapport::server::internal {

// field conventions: "/a/b" is a JSON pointer into the request body; any
// other non-empty text names a path or query parameter.
Response Problem(int http_status, std::string_view title, const std::string& detail, const std::string& field,
                 const std::string& instance);
Response ProblemFromStatus(const Status& s, const std::string& instance);

// The problem "type" URI for an HTTP status, e.g.
// "https://rapport.dev/problems/not-found".
std::string ProblemType(int http_status);

}  // namespace rapport::server::internal
