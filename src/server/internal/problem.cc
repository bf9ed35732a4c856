#include "server/internal/problem.h"

#include <charconv>

#include "common/json.h"

namespace rapport::server::internal {

std::string ProblemType(int http_status) {
  std::string_view slug;
  switch (http_status) {
    case 400: slug = "invalid-request"; break;
    case 401: slug = "unauthenticated"; break;
    case 403: slug = "permission-denied"; break;
    case 404: slug = "not-found"; break;
    case 405: slug = "method-not-allowed"; break;
    case 409: slug = "conflict"; break;
    case 413: slug = "payload-too-large"; break;
    case 415: slug = "unsupported-media-type"; break;
    case 422: slug = "unprocessable"; break;
    case 429: slug = "too-many-requests"; break;
    case 503: slug = "unavailable"; break;
    default: slug = "internal"; break;
  }
  return "https://rapport.dev/problems/" + std::string(slug);
}

Response Problem(int http_status, std::string_view title, const std::string& detail, const std::string& field,
                 const std::string& instance) {
  json::Writer w;
  w.StartObject();
  w.Field("type", ProblemType(http_status));
  w.Field("title", title);
  w.Field("status", http_status);
  w.Field("detail", detail);
  if (!instance.empty()) w.Field("instance", instance);
  if (!field.empty()) {
    w.Key("errors").StartArray().StartObject();
    if (field.front() == '/') {
      w.Field("field", field);
    } else {
      w.Field("parameter", field);
    }
    w.Field("detail", detail);
    // Expression errors (FEEL conditions, filters) start "position N: ";
    // the offset is given as a number too, for editors to put the cursor.
    if (detail.rfind("position ", 0) == 0) {
      int64_t pos = 0;
      auto [end, ec] = std::from_chars(detail.data() + 9, detail.data() + detail.size(), pos);
      if (ec == std::errc() && end < detail.data() + detail.size() && *end == ':') w.Field("position", pos);
    }
    w.EndObject().EndArray();
  }
  w.EndObject();
  Response r = Response::Json(http_status, w.Take());
  r.content_type = "application/problem+json";
  if (http_status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rapport\"");
  if (http_status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response ProblemFromStatus(const Status& s, const std::string& instance) {
  int code = HttpStatusOf(s.code());
  // Internal errors keep their cause out of the response: it may name tables
  // or paths. The log has it.
  std::string detail = code == 500 ? "an internal error occurred; see the server log" : s.message();
  return Problem(code, TitleOf(s.code()), detail, code == 500 ? std::string() : s.field(), instance);
}

}  // namespace rapport::server::internal
