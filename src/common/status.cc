#include "common/status.h"

namespace rapport {

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kUnsupportedMedia: return 415;
    case StatusCode::kUnprocessable: return 422;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string_view TitleOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "Bad Request";
    case StatusCode::kUnauthenticated: return "Unauthorized";
    case StatusCode::kPermissionDenied: return "Forbidden";
    case StatusCode::kNotFound: return "Not Found";
    case StatusCode::kConflict: return "Conflict";
    case StatusCode::kPayloadTooLarge: return "Content Too Large";
    case StatusCode::kUnsupportedMedia: return "Unsupported Media Type";
    case StatusCode::kUnprocessable: return "Unprocessable Content";
    case StatusCode::kUnavailable: return "Service Unavailable";
    case StatusCode::kInternal: return "Internal Server Error";
  }
  return "Internal Server Error";
}

Status Status::WithFieldPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  return Status(code_, message_, std::string(prefix) + field_);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(TitleOf(code_));
  s += ": ";
  s += message_;
  if (!field_.empty()) {
    s += " (field ";
    s += field_;
    s += ")";
  }
  return s;
}

}  // namespace rapport
