#include "server/internal/segment_codec.h"

#include "common/json.h"

namespace rapport::server::internal {

Result<std::string> DecodePreview(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(body, ""));
  std::string condition;
  RP_RETURN_IF_ERROR(reader.String("condition", &condition, json::Need::kRequired));
  RP_RETURN_IF_ERROR(reader.Finish());
  return condition;
}

Result<SegmentRequest> DecodeSegmentRequest(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(body, ""));
  SegmentRequest s;
  std::string operation;
  RP_RETURN_IF_ERROR(reader.String("name", &s.name, json::Need::kRequired));
  RP_RETURN_IF_ERROR(reader.String("description", &s.description));
  RP_RETURN_IF_ERROR(reader.String("condition", &s.condition));
  RP_RETURN_IF_ERROR(reader.String("operation", &operation));
  const rapidjson::Value* segments = reader.Find("segments");
  RP_RETURN_IF_ERROR(reader.Finish());
  if (operation.empty()) {
    if (segments) return Status::InvalidArgument("segments go with an operation", "/segments");
    if (s.condition.empty()) return Status::InvalidArgument("required field is missing", "/condition");
    return s;
  }
  if (!s.condition.empty()) {
    return Status::InvalidArgument("give either a condition or an operation, not both", "/operation");
  }
  if (operation == "union") s.operation = profile::SetOperation::kUnion;
  else if (operation == "intersection") s.operation = profile::SetOperation::kIntersection;
  else if (operation == "difference") s.operation = profile::SetOperation::kDifference;
  else return Status::InvalidArgument("operation is union, intersection or difference", "/operation");
  if (!segments || !segments->IsArray() || segments->Size() != 2 || !(*segments)[0].IsInt64() ||
      !(*segments)[1].IsInt64()) {
    return Status::InvalidArgument("expected two segment ids [left, right]", "/segments");
  }
  s.left = (*segments)[0].GetInt64();
  s.right = (*segments)[1].GetInt64();
  return s;
}

Result<profile::QuerySpec> DecodeAnalyticsQuery(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(auto reader, json::ObjectReader::Of(body, ""));
  profile::QuerySpec q;
  int64_t limit = 1000;
  RP_RETURN_IF_ERROR(reader.Strings("measures", &q.measures, json::Need::kRequired));
  RP_RETURN_IF_ERROR(reader.Strings("dimensions", &q.dimensions));
  RP_RETURN_IF_ERROR(reader.String("filter", &q.filter));
  RP_RETURN_IF_ERROR(reader.Int64("segment", &q.segment_id));
  RP_RETURN_IF_ERROR(reader.Int64("limit", &limit));
  RP_RETURN_IF_ERROR(reader.Finish());
  if (limit < 1 || limit > 100000) return Status::InvalidArgument("limit must be 1..100000", "/limit");
  q.limit = static_cast<int>(limit);
  return q;
}

}  // namespace rapport::server::internal
