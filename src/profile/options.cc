#include "common/json.h"
#include "profile/profile.h"

namespace rapport::profile {
namespace {

Result<ColumnType> ParseColumnType(const std::string& s, const std::string& pointer) {
  if (s == "number") return ColumnType::kNumber;
  if (s == "string") return ColumnType::kString;
  if (s == "date") return ColumnType::kDate;
  if (s == "boolean") return ColumnType::kBoolean;
  return Status::InvalidArgument("type is number, string, date or boolean", pointer);
}

}  // namespace

Result<ProfileOptions> ParseProfileOptions(std::string_view json_text, Timestamp as_of) {
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(json_text));
  RP_ASSIGN_OR_RETURN(auto root, json::ObjectReader::Of(*doc, ""));
  bool defaults = false;
  RP_RETURN_IF_ERROR(root.Bool("defaults", &defaults));
  ProfileOptions o = defaults ? DefaultProfileOptions(as_of) : ProfileOptions{};
  o.as_of = as_of;
  if (const rapidjson::Value* attrs = root.Find("attributes")) {
    if (!attrs->IsArray()) return Status::InvalidArgument("expected an array", "/attributes");
    for (rapidjson::SizeType i = 0; i < attrs->Size(); ++i) {
      std::string ptr = "/attributes/" + std::to_string(i);
      RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of((*attrs)[i], ptr));
      AttributeColumn a;
      std::string type = "string", derive;
      RP_RETURN_IF_ERROR(r.String("name", &a.name, json::Need::kRequired));
      RP_RETURN_IF_ERROR(r.String("attribute", &a.attribute));
      RP_RETURN_IF_ERROR(r.String("type", &type));
      RP_RETURN_IF_ERROR(r.String("derive", &derive));
      RP_RETURN_IF_ERROR(r.Finish());
      if (a.name.empty()) return Status::InvalidArgument("a column needs a name", ptr + "/name");
      RP_ASSIGN_OR_RETURN(a.type, ParseColumnType(type, ptr + "/type"));
      if (derive == "ageYears") {
        a.derive = AttributeColumn::Derive::kAgeYears;
        a.type = ColumnType::kNumber;
      } else if (derive == "ageBand") {
        a.derive = AttributeColumn::Derive::kAgeBand;
        a.type = ColumnType::kString;
      } else if (!derive.empty()) {
        return Status::InvalidArgument("derive is ageYears or ageBand", ptr + "/derive");
      }
      o.attributes.push_back(std::move(a));
    }
  }
  if (const rapidjson::Value* aggs = root.Find("aggregates")) {
    if (!aggs->IsArray()) return Status::InvalidArgument("expected an array", "/aggregates");
    for (rapidjson::SizeType i = 0; i < aggs->Size(); ++i) {
      std::string ptr = "/aggregates/" + std::to_string(i);
      RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of((*aggs)[i], ptr));
      AggregateDef g;
      std::string source, measure;
      int64_t window = 0;
      RP_RETURN_IF_ERROR(r.String("name", &g.name, json::Need::kRequired));
      RP_RETURN_IF_ERROR(r.String("source", &source, json::Need::kRequired));
      RP_RETURN_IF_ERROR(r.String("measure", &measure, json::Need::kRequired));
      RP_RETURN_IF_ERROR(r.String("field", &g.field));
      RP_RETURN_IF_ERROR(r.Int64("windowDays", &window));
      RP_RETURN_IF_ERROR(r.String("filter", &g.filter));
      RP_RETURN_IF_ERROR(r.Bool("rollup", &g.rollup));
      RP_RETURN_IF_ERROR(r.Finish());
      if (g.name.empty()) return Status::InvalidArgument("an aggregate needs a name", ptr + "/name");
      if (source == "transactions") g.source = AggregateDef::Source::kTransactions;
      else if (source == "interactions") g.source = AggregateDef::Source::kInteractions;
      else return Status::InvalidArgument("source is transactions or interactions", ptr + "/source");
      if (measure == "count") g.measure = AggregateDef::Measure::kCount;
      else if (measure == "sum") g.measure = AggregateDef::Measure::kSum;
      else if (measure == "first") g.measure = AggregateDef::Measure::kFirst;
      else if (measure == "last") g.measure = AggregateDef::Measure::kLast;
      else if (measure == "top") g.measure = AggregateDef::Measure::kTop;
      else return Status::InvalidArgument("measure is count, sum, first, last or top", ptr + "/measure");
      if (window < 0 || window > 36500) return Status::InvalidArgument("windowDays is 0..36500", ptr + "/windowDays");
      g.window_days = static_cast<int>(window);
      o.aggregates.push_back(std::move(g));
    }
  }
  if (const rapidjson::Value* limits = root.Find("limits")) {
    RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*limits, "/limits"));
    auto steps = static_cast<int64_t>(o.limits.max_steps), bytes = static_cast<int64_t>(o.limits.max_bytes);
    int64_t timeout = o.eval_timeout.count();
    RP_RETURN_IF_ERROR(r.Int64("maxSteps", &steps));
    RP_RETURN_IF_ERROR(r.Int64("maxMemoryBytes", &bytes));
    RP_RETURN_IF_ERROR(r.Int64("timeoutMs", &timeout));
    RP_RETURN_IF_ERROR(r.Finish());
    if (steps < 1000) return Status::InvalidArgument("maxSteps is at least 1000", "/limits/maxSteps");
    if (bytes < 65536) return Status::InvalidArgument("maxMemoryBytes is at least 65536", "/limits/maxMemoryBytes");
    if (timeout < 1 || timeout > 600'000) return Status::InvalidArgument("timeoutMs is 1..600000", "/limits/timeoutMs");
    o.limits.max_steps = static_cast<uint64_t>(steps);
    o.limits.max_bytes = static_cast<uint64_t>(bytes);
    o.eval_timeout = std::chrono::milliseconds(timeout);
  }
  RP_RETURN_IF_ERROR(root.Finish());
  return o;
}

}  // namespace rapport::profile
