// JSON event members as FEEL values, so conditions read
// `event.properties.total > 500` like any other FEEL.

#include "decision/internal/trigger_json.h"

#include "decision/decision.h"

#include <algorithm>

namespace rapport::decision {

feel::Value FeelFromJson(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return feel::Value::Null();
    case rapidjson::kFalseType: return feel::Value::Boolean(false);
    case rapidjson::kTrueType: return feel::Value::Boolean(true);
    case rapidjson::kStringType: return feel::Value::String(std::string(v.GetString(), v.GetStringLength()));
    case rapidjson::kNumberType:
      if (v.IsInt64()) return feel::Value::Number(v.GetInt64());
      return feel::Value::Number(feel::Decimal::FromDouble(v.GetDouble()));
    case rapidjson::kArrayType: {
      std::vector<feel::Value> items;
      items.reserve(v.Size());
      for (const auto& item : v.GetArray()) items.push_back(FeelFromJson(item));
      return feel::Value::List(std::move(items));
    }
    case rapidjson::kObjectType: {
      feel::ContextEntries entries;
      entries.reserve(v.MemberCount());
      for (const auto& m : v.GetObject()) {
        std::string key(m.name.GetString(), m.name.GetStringLength());
        feel::Value value = FeelFromJson(m.value);
        auto same = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; });
        if (same != entries.end()) {
          same->second = std::move(value);  // a later duplicate replaces, as in JavaScript
        } else {
          entries.emplace_back(std::move(key), std::move(value));
        }
      }
      return feel::Value::Context(std::move(entries));
    }
  }
  return feel::Value::Null();
}

}  // namespace rapport::decision

namespace rapport::decision::internal {

feel::Value FeelFromJsonText(std::string_view text) {
  auto doc = json::Parse(text);
  if (!doc.ok()) return feel::Value::Null();
  return FeelFromJson(**doc);
}

}  // namespace rapport::decision::internal
