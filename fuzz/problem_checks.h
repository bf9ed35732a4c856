#pragma once
// Checks the request fuzz targets share: a decoding failure must point into
// the body (or nowhere) and render as a problem document; anything else
// aborts, which libFuzzer reports as a crash.

#include <cstdlib>

#include "common/json.h"
#include "common/status.h"
#include "server/internal/problem.h"

namespace rapport::fuzz {

inline void Check(bool ok) {
  if (!ok) std::abort();
}

// max_http_status: 499 for decoders; 599 where evaluation may also answer
// 503 (a time limit). Never 500.
inline void CheckError(const Status& s, int max_http_status = 499) {
  Check(!s.ok());
  Check(s.field().empty() || s.field().front() == '/');
  server::internal::Response r = server::internal::ProblemFromStatus(s, "/fuzz");
  Check(r.status >= 400 && r.status <= max_http_status && r.status != 500);
  Check(json::Parse(r.body).ok());
}

}  // namespace rapport::fuzz
