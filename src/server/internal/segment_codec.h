#pragma once
// The JSON bodies of the segment and analytics routes, decoded into what the
// profile store takes: one decoder per body, shared by the routes and the
// request fuzz target (fuzz/segment_request_fuzz.cc). Errors name the JSON
// pointer of the member.

#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "common/status.h"
#include "profile/profile.h"

namespace rapport::server::internal {

// POST /v1/segments/preview: {"condition"}.
Result<std::string> DecodePreview(const rapidjson::Value& body);

// POST /v1/segments: a condition segment, or a combination of two:
// {"name", "description", "condition"} or {"name", "operation":
// "union"|"intersection"|"difference", "segments": [left, right]}.
struct SegmentRequest {
  std::string name;
  std::string description;
  std::string condition;                    // empty with an operation
  std::optional<profile::SetOperation> operation;
  int64_t left = 0, right = 0;
};
Result<SegmentRequest> DecodeSegmentRequest(const rapidjson::Value& body);

// POST /v1/analytics/query: {measures, dimensions, filter, segment, limit}.
// The spec's limits are left at their defaults for the caller to set.
Result<profile::QuerySpec> DecodeAnalyticsQuery(const rapidjson::Value& body);

}  // namespace rapport::server::internal
