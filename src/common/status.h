#pragma once
// Errors as values. A Status carries a code that maps one-to-one to an HTTP
// status, a human message, and optionally the field it is about (a JSON
// pointer such as "/attributes/birthDate", a CSV column, a FEEL position), so
// the server can turn it into a precise RFC 9457 problem document.
// Status and Result are values: copyable, not thread-safe to mutate.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rapport {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // 400: malformed or wrong-typed input
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kConflict,            // 409: already exists, version clash
  kPayloadTooLarge,     // 413
  kUnsupportedMedia,    // 415
  kUnprocessable,       // 422: well-formed but semantically wrong
  kUnavailable,         // 503: overloaded or shutting down; retry later
  kInternal,            // 500
};

// The HTTP status a code stands for, and its short title ("Not Found").
int HttpStatusOf(StatusCode code);
std::string_view TitleOf(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string field = {}) {
    return {StatusCode::kInvalidArgument, std::move(msg), std::move(field)};
  }
  static Status Unauthenticated(std::string msg) { return {StatusCode::kUnauthenticated, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status NotFound(std::string msg, std::string field = {}) {
    return {StatusCode::kNotFound, std::move(msg), std::move(field)};
  }
  static Status Conflict(std::string msg, std::string field = {}) {
    return {StatusCode::kConflict, std::move(msg), std::move(field)};
  }
  static Status PayloadTooLarge(std::string msg) { return {StatusCode::kPayloadTooLarge, std::move(msg)}; }
  static Status Unprocessable(std::string msg, std::string field = {}) {
    return {StatusCode::kUnprocessable, std::move(msg), std::move(field)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }

  // Prefixes the field with a parent path: "/email" under "/traits" becomes
  // "/traits/email". Used when a nested decoder reports a problem.
  Status WithFieldPrefix(std::string_view prefix) const;
  // "Not Found: customer cus_1 does not exist (field /id)".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

// A value or the Status saying why there is none. Like absl::StatusOr, it has
// no default constructor, so `return {};` cannot fake a result.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace rapport

#define RP_CONCAT_INNER(a, b) a##b
#define RP_CONCAT(a, b) RP_CONCAT_INNER(a, b)

#define RP_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::rapport::Status rp_status_ = (expr);       \
    if (!rp_status_.ok()) return rp_status_;     \
  } while (0)

#define RP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

// RP_ASSIGN_OR_RETURN(auto c, store.Find(id));
#define RP_ASSIGN_OR_RETURN(lhs, expr) \
  RP_ASSIGN_OR_RETURN_IMPL(RP_CONCAT(rp_result_, __LINE__), lhs, expr)
