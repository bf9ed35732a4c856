// The decoder of Segment tracking payloads. It is lenient where Segment's
// SDKs differ from each other (extra members, numeric ids) and precise where
// the spec is firm (required fields, types, sizes), naming the offending
// field as a JSON pointer.

#include <random>

#include "common/json.h"
#include "common/text.h"
#include "ingest/tracking.h"

namespace rapport::ingest {
namespace {

constexpr size_t kMaxIdBytes = 256;

std::string Ptr(std::string_view base, std::string_view key) { return json::Child(base, key); }

// A Segment id: a non-empty string (numbers are accepted and written in
// decimal, as some SDKs send them). Absent, null and "" read as empty.
Status ReadId(const rapidjson::Value& obj, std::string_view key, std::string_view base, std::string* out) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  const rapidjson::Value& v = it->value;
  if (v.IsString()) {
    out->assign(v.GetString(), v.GetStringLength());
  } else if (v.IsInt64()) {
    *out = std::to_string(v.GetInt64());
  } else if (v.IsUint64()) {
    *out = std::to_string(v.GetUint64());
  } else {
    return Status::InvalidArgument("expected a string, got " + std::string(json::TypeName(v)), Ptr(base, key));
  }
  if (out->size() > kMaxIdBytes) {
    return Status::InvalidArgument("ids are at most " + std::to_string(kMaxIdBytes) + " bytes", Ptr(base, key));
  }
  // Ids become identifiers and keys other systems match on: no CR/LF, TAB, NUL.
  return text::CheckIdentifier(*out, Ptr(base, key));
}

Status ReadString(const rapidjson::Value& obj, std::string_view key, std::string_view base, std::string* out) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsString()) {
    return Status::InvalidArgument("expected a string, got " + std::string(json::TypeName(it->value)),
                                   Ptr(base, key));
  }
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

// An object member, or nullptr when absent or null; InvalidArgument naming
// it when it is something else.
Status FindObject(const rapidjson::Value& obj, std::string_view key, std::string_view base,
                  const rapidjson::Value** raw) {
  *raw = nullptr;
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsObject()) {
    return Status::InvalidArgument("expected an object, got " + std::string(json::TypeName(it->value)),
                                   Ptr(base, key));
  }
  *raw = &it->value;
  return Status::Ok();
}

// v as compact JSON text. rapidjson's writer refuses a number that parsed
// to infinity (a literal beyond the double range): that is the client's
// error, named at `pointer`, not a document to store half-written.
Status Serialize(const rapidjson::Value& v, std::string_view pointer, std::string* out) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  if (!v.Accept(w)) return Status::InvalidArgument("a number is beyond the range of a double", std::string(pointer));
  out->assign(buf.GetString(), buf.GetSize());
  return Status::Ok();
}

// An object member as compact JSON text; absent or null leaves *out as is.
Status ReadObject(const rapidjson::Value& obj, std::string_view key, std::string_view base, std::string* out) {
  const rapidjson::Value* raw = nullptr;
  RP_RETURN_IF_ERROR(FindObject(obj, key, base, &raw));
  if (!raw) return Status::Ok();
  return Serialize(*raw, Ptr(base, key), out);
}

Status ReadTime(const rapidjson::Value& obj, std::string_view key, std::string_view base,
                std::optional<Timestamp>* out) {
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (!it->value.IsString()) {
    return Status::InvalidArgument("expected an RFC 3339 timestamp string, got " +
                                       std::string(json::TypeName(it->value)),
                                   Ptr(base, key));
  }
  auto t = ParseRfc3339(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  if (!t.ok()) return Status::InvalidArgument(t.status().message(), Ptr(base, key));
  *out = *t;
  return Status::Ok();
}

std::string NewMessageId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "rp-";
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i) out += kHex[(v >> (i * 4)) & 15];
  }
  return out;
}

// Merges defaults (the batch's context or integrations) under an event's own
// members: the event's member wins when both have it. Errors name `pointer`.
Status MergeObjects(const rapidjson::Value* defaults, const rapidjson::Value* own, std::string_view pointer,
                    std::string* out) {
  if (!defaults || defaults->ObjectEmpty()) {
    if (!own) {
      *out = "{}";
      return Status::Ok();
    }
    return Serialize(*own, pointer, out);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  bool ok = w.StartObject();
  for (auto m = defaults->MemberBegin(); ok && m != defaults->MemberEnd(); ++m) {
    if (own && own->HasMember(m->name)) continue;
    ok = m->name.Accept(w) && m->value.Accept(w);
  }
  if (own) {
    for (auto m = own->MemberBegin(); ok && m != own->MemberEnd(); ++m) ok = m->name.Accept(w) && m->value.Accept(w);
  }
  if (!ok || !w.EndObject()) return Status::InvalidArgument("a number is beyond the range of a double", std::string(pointer));
  out->assign(buf.GetString(), buf.GetSize());
  return Status::Ok();
}

struct BatchDefaults {
  const rapidjson::Value* context = nullptr;
  const rapidjson::Value* integrations = nullptr;
  std::optional<Timestamp> sent_at;
};

// Decodes one call object at pointer `base`. `type` is the path's type, or
// nullopt inside a batch (then "type" is required).
Result<TrackingEvent> DecodeEvent(const rapidjson::Value& v, std::optional<EventType> type, std::string base,
                                  Timestamp received_at, const BatchDefaults& defaults) {
  if (!v.IsObject()) {
    return Status::InvalidArgument("expected an object, got " + std::string(json::TypeName(v)), base);
  }
  TrackingEvent e;
  std::string type_text;
  RP_RETURN_IF_ERROR(ReadString(v, "type", base, &type_text));
  if (type_text.empty()) {
    if (!type) {
      return Status::InvalidArgument("missing required field: every batch item needs a type", Ptr(base, "type"));
    }
    e.type = *type;
  } else {
    auto t = ParseEventType(type_text);
    if (!t.ok()) return Status::InvalidArgument(t.status().message(), Ptr(base, "type"));
    if (type && *t != *type) {
      return Status::InvalidArgument("type '" + type_text + "' does not match the path /v1/" +
                                         std::string(EventTypeName(*type)),
                                     Ptr(base, "type"));
    }
    e.type = *t;
  }

  RP_RETURN_IF_ERROR(ReadId(v, "messageId", base, &e.message_id));
  RP_RETURN_IF_ERROR(ReadId(v, "anonymousId", base, &e.anonymous_id));
  RP_RETURN_IF_ERROR(ReadId(v, "userId", base, &e.user_id));
  const rapidjson::Value* context = nullptr;
  const rapidjson::Value* integrations = nullptr;
  RP_RETURN_IF_ERROR(FindObject(v, "context", base, &context));
  RP_RETURN_IF_ERROR(FindObject(v, "integrations", base, &integrations));
  RP_RETURN_IF_ERROR(MergeObjects(defaults.context, context, Ptr(base, "context"), &e.context_json));
  RP_RETURN_IF_ERROR(MergeObjects(defaults.integrations, integrations, Ptr(base, "integrations"), &e.integrations_json));

  std::optional<Timestamp> timestamp, sent_at, original;
  RP_RETURN_IF_ERROR(ReadTime(v, "timestamp", base, &timestamp));
  RP_RETURN_IF_ERROR(ReadTime(v, "sentAt", base, &sent_at));
  RP_RETURN_IF_ERROR(ReadTime(v, "originalTimestamp", base, &original));
  std::optional<Timestamp> client_received;  // Segment sets receivedAt itself; a sent one is only checked
  RP_RETURN_IF_ERROR(ReadTime(v, "receivedAt", base, &client_received));
  if (!sent_at) sent_at = defaults.sent_at;
  e.received_at = received_at;
  e.sent_at = sent_at;
  e.original_timestamp = original ? original : timestamp;
  if (sent_at && e.original_timestamp) {
    e.timestamp = Timestamp{received_at.micros - (sent_at->micros - e.original_timestamp->micros)};
  } else if (timestamp) {
    e.timestamp = *timestamp;
  } else {
    e.timestamp = received_at;
  }
  {
    // Corrected by the client's clock skew, the time can leave the accepted years.
    int64_t year;
    unsigned month, day;
    CivilFromDays(e.timestamp.micros / kMicrosPerDay, &year, &month, &day);
    if (Status s = CheckYear(year); !s.ok()) {
      return Status::InvalidArgument("the event's time (timestamp corrected by sentAt): " + s.message(),
                                     Ptr(base, original ? "originalTimestamp" : "timestamp"));
    }
  }

  switch (e.type) {
    case EventType::kIdentify:
      RP_RETURN_IF_ERROR(ReadObject(v, "traits", base, &e.traits_json));
      break;
    case EventType::kTrack:
      RP_RETURN_IF_ERROR(ReadString(v, "event", base, &e.event));
      if (e.event.empty()) return Status::InvalidArgument("missing required field: a track call needs an event name", Ptr(base, "event"));
      if (e.event.size() > kMaxIdBytes) {
        return Status::InvalidArgument("event names are at most 256 bytes", Ptr(base, "event"));
      }
      RP_RETURN_IF_ERROR(text::CheckIdentifier(e.event, Ptr(base, "event")));
      RP_RETURN_IF_ERROR(ReadObject(v, "properties", base, &e.properties_json));
      if (IsOrderEvent(e.event)) {
        // An order becomes transactions after the call is answered: its
        // amounts, quantities and currency are checked now, while the client
        // can still be told which one is wrong.
        const rapidjson::Value* props = nullptr;
        RP_RETURN_IF_ERROR(FindObject(v, "properties", base, &props));
        if (props) RP_RETURN_IF_ERROR(OrderTransactions(e, *props, "", Ptr(base, "properties")).status());
      }
      break;
    case EventType::kPage:
    case EventType::kScreen:
      RP_RETURN_IF_ERROR(ReadString(v, "name", base, &e.name));
      RP_RETURN_IF_ERROR(ReadString(v, "category", base, &e.category));
      RP_RETURN_IF_ERROR(ReadObject(v, "properties", base, &e.properties_json));
      break;
    case EventType::kGroup:
      RP_RETURN_IF_ERROR(ReadId(v, "groupId", base, &e.group_id));
      if (e.group_id.empty()) return Status::InvalidArgument("missing required field: a group call needs a groupId", Ptr(base, "groupId"));
      RP_RETURN_IF_ERROR(ReadObject(v, "traits", base, &e.traits_json));
      break;
    case EventType::kAlias:
      RP_RETURN_IF_ERROR(ReadId(v, "previousId", base, &e.previous_id));
      if (e.previous_id.empty()) {
        return Status::InvalidArgument("missing required field: an alias call needs a previousId",
                                       Ptr(base, "previousId"));
      }
      if (e.user_id.empty()) {
        return Status::InvalidArgument("missing required field: an alias call needs a userId", Ptr(base, "userId"));
      }
      break;
  }
  if (e.user_id.empty() && e.anonymous_id.empty()) {
    return Status::InvalidArgument("missing required field: either userId or anonymousId", Ptr(base, "userId"));
  }
  size_t bytes = e.message_id.size() + e.anonymous_id.size() + e.user_id.size() + e.event.size() + e.name.size() +
                 e.category.size() + e.group_id.size() + e.previous_id.size() + e.traits_json.size() +
                 e.properties_json.size() + e.context_json.size() + e.integrations_json.size();
  if (bytes > kMaxEventBytes) {
    return Status::PayloadTooLarge("the event is " + std::to_string(bytes) + " bytes; Segment's limit is " +
                                   std::to_string(kMaxEventBytes) + " bytes per event");
  }
  if (e.message_id.empty()) e.message_id = NewMessageId();
  return e;
}

Result<std::unique_ptr<rapidjson::Document>> ParseBody(std::string_view body, size_t limit) {
  if (body.empty()) return Status::InvalidArgument("the request needs a JSON body");
  json::ParseLimits limits;
  limits.max_bytes = limit;
  limits.max_depth = 32;
  return json::Parse(body, limits);
}

}  // namespace

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kIdentify: return "identify";
    case EventType::kTrack: return "track";
    case EventType::kPage: return "page";
    case EventType::kScreen: return "screen";
    case EventType::kGroup: return "group";
    case EventType::kAlias: return "alias";
  }
  return "track";
}

Result<EventType> ParseEventType(std::string_view s) {
  for (EventType t : {EventType::kIdentify, EventType::kTrack, EventType::kPage, EventType::kScreen,
                      EventType::kGroup, EventType::kAlias}) {
    if (EventTypeName(t) == s) return t;
  }
  return Status::InvalidArgument("type must be identify, track, page, screen, group or alias, not '" +
                                 std::string(s) + "'");
}

Result<DecodedPayload> DecodeCall(EventType type, std::string_view body, Timestamp received_at) {
  auto doc = ParseBody(body, kMaxEventBytes);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kPayloadTooLarge) {
      return Status::PayloadTooLarge("the body is " + std::to_string(body.size()) + " bytes; Segment's limit is " +
                                     std::to_string(kMaxEventBytes) + " bytes per call");
    }
    return doc.status();
  }
  DecodedPayload out;
  if ((*doc)->IsObject()) RP_RETURN_IF_ERROR(ReadString(**doc, "writeKey", "", &out.write_key));
  RP_ASSIGN_OR_RETURN(TrackingEvent e, DecodeEvent(**doc, type, "", received_at, {}));
  out.events.push_back(std::move(e));
  return out;
}

Result<DecodedPayload> DecodeBatch(std::string_view body, Timestamp received_at) {
  auto doc = ParseBody(body, kMaxBatchBytes);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kPayloadTooLarge) {
      return Status::PayloadTooLarge("the batch is " + std::to_string(body.size()) + " bytes; Segment's limit is " +
                                     std::to_string(kMaxBatchBytes) + " bytes per batch");
    }
    return doc.status();
  }
  const rapidjson::Value& root = **doc;
  if (!root.IsObject()) return Status::InvalidArgument("expected an object, got " + std::string(json::TypeName(root)));
  DecodedPayload out;
  RP_RETURN_IF_ERROR(ReadString(root, "writeKey", "", &out.write_key));
  BatchDefaults defaults;
  RP_RETURN_IF_ERROR(FindObject(root, "context", "", &defaults.context));
  RP_RETURN_IF_ERROR(FindObject(root, "integrations", "", &defaults.integrations));
  RP_RETURN_IF_ERROR(ReadTime(root, "sentAt", "", &defaults.sent_at));
  auto it = root.FindMember("batch");
  if (it == root.MemberEnd() || it->value.IsNull()) {
    return Status::InvalidArgument("missing required field: the array of calls", "/batch");
  }
  if (!it->value.IsArray()) {
    return Status::InvalidArgument("expected an array, got " + std::string(json::TypeName(it->value)), "/batch");
  }
  const auto& items = it->value.GetArray();
  out.events.reserve(items.Size());
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    auto e = DecodeEvent(items[i], std::nullopt, json::Child("/batch", i), received_at, defaults);
    if (!e.ok()) {
      Status s = e.status();
      if (s.field().empty()) s = Status(s.code(), s.message(), json::Child("/batch", i));
      out.rejected.push_back({i, std::move(s)});
      continue;
    }
    out.events.push_back(std::move(*e));
  }
  return out;
}

std::string EventToJson(const TrackingEvent& e) {
  json::Writer w;
  w.StartObject();
  w.Field("type", EventTypeName(e.type));
  w.Field("messageId", e.message_id);
  if (!e.user_id.empty()) w.Field("userId", e.user_id);
  if (!e.anonymous_id.empty()) w.Field("anonymousId", e.anonymous_id);
  switch (e.type) {
    case EventType::kIdentify: w.Key("traits").Raw(e.traits_json); break;
    case EventType::kTrack:
      w.Field("event", e.event);
      w.Key("properties").Raw(e.properties_json);
      break;
    case EventType::kPage:
    case EventType::kScreen:
      if (!e.name.empty()) w.Field("name", e.name);
      if (!e.category.empty()) w.Field("category", e.category);
      w.Key("properties").Raw(e.properties_json);
      break;
    case EventType::kGroup:
      w.Field("groupId", e.group_id);
      w.Key("traits").Raw(e.traits_json);
      break;
    case EventType::kAlias: w.Field("previousId", e.previous_id); break;
  }
  w.Key("context").Raw(e.context_json);
  w.Key("integrations").Raw(e.integrations_json);
  w.TimeField("timestamp", e.timestamp);
  if (e.original_timestamp) w.TimeField("originalTimestamp", *e.original_timestamp);
  if (e.sent_at) w.TimeField("sentAt", *e.sent_at);
  w.TimeField("receivedAt", e.received_at);
  w.EndObject();
  return w.Take();
}

}  // namespace rapport::ingest
