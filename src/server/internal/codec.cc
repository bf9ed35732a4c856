#include "server/internal/codec.h"

namespace rapport::server::internal {

using customer::AttributeValue;
using json::Need;
using json::ObjectReader;

namespace {

// One attribute value: string, number, boolean, or (when allowed) null for
// "remove". Integers stay integers; the catalog type decides the rest.
Result<AttributeValue> DecodeAttributeValue(const rapidjson::Value& v, const std::string& pointer, bool allow_null) {
  if (v.IsString()) return AttributeValue(std::string(v.GetString(), v.GetStringLength()));
  if (v.IsBool()) return AttributeValue(v.GetBool());
  if (v.IsInt64()) return AttributeValue(v.GetInt64());
  if (v.IsNumber()) return AttributeValue(v.GetDouble());
  if (v.IsNull() && allow_null) return AttributeValue(std::monostate{});
  return Status::InvalidArgument(std::string("expected a string, number or boolean") + (allow_null ? " or null" : "") +
                                     ", got " + std::string(json::TypeName(v)),
                                 pointer);
}

Status DecodeAttributes(ObjectReader& r, bool allow_null, std::map<std::string, AttributeValue>* out) {
  const rapidjson::Value* v = r.Find("attributes");
  if (v == nullptr) return Status::Ok();
  std::string base = r.Pointer("attributes");
  if (!v->IsObject()) {
    return Status::InvalidArgument("expected an object, got " + std::string(json::TypeName(*v)), base);
  }
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    std::string pointer = json::Child(base, name);
    if (out->count(name)) return Status::InvalidArgument("duplicate field", pointer);
    RP_ASSIGN_OR_RETURN(AttributeValue value, DecodeAttributeValue(it->value, pointer, allow_null));
    (*out)[name] = std::move(value);
  }
  return Status::Ok();
}

Status DecodeIdentifiers(ObjectReader& r, std::string_view key, std::vector<customer::Identifier>* out) {
  std::vector<std::string> texts;
  RP_RETURN_IF_ERROR(r.Strings(key, &texts));
  for (size_t i = 0; i < texts.size(); ++i) {
    auto id = customer::ParseIdentifier(texts[i]);
    if (!id.ok()) return Status::InvalidArgument(id.status().message(), json::Child(r.Pointer(key), i));
    out->push_back(*id);
  }
  return Status::Ok();
}

Status DecodeSource(ObjectReader& r, std::string* source) {
  RP_RETURN_IF_ERROR(r.String("source", source));
  if (source->empty()) *source = "api";
  return Status::Ok();
}

Status DecodeCustomerRef(ObjectReader& r, CustomerRef* ref) {
  bool by_id = r.Find("customerId") != nullptr;
  bool by_identifier = r.Find("customer") != nullptr;
  if (by_id && by_identifier) {
    return Status::InvalidArgument("give either customerId or customer, not both", r.Pointer("customer"));
  }
  if (!by_id && !by_identifier) {
    return Status::InvalidArgument("a customerId (or a customer identifier such as \"email:ada@example.com\") is required",
                                   r.Pointer("customerId"));
  }
  if (by_id) {
    RP_RETURN_IF_ERROR(r.Int64("customerId", &ref->id, Need::kRequired));
    if (ref->id <= 0) return Status::InvalidArgument("a customer id is a positive integer", r.Pointer("customerId"));
    return Status::Ok();
  }
  std::string text;
  RP_RETURN_IF_ERROR(r.String("customer", &text, Need::kRequired));
  auto id = customer::ParseIdentifier(text);
  if (!id.ok()) return Status::InvalidArgument(id.status().message(), r.Pointer("customer"));
  ref->identifier = *id;
  return Status::Ok();
}

void WriteMaybeMasked(json::Writer& w, const AttributeValue& v, bool masked) {
  if (masked) {
    w.String(kMasked);
  } else {
    WriteAttributeValue(w, v);
  }
}

void WriteOptionalText(json::Writer& w, std::string_view key, const std::string& s) {
  if (!s.empty()) w.Field(key, s);
}

}  // namespace

Result<customer::NewCustomer> DecodeNewCustomer(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::NewCustomer c;
  std::string kind;
  RP_RETURN_IF_ERROR(r.String("kind", &kind, Need::kRequired));
  auto k = customer::ParseKind(kind);
  if (!k.ok()) return Status::InvalidArgument(k.status().message(), "/kind");
  c.kind = *k;
  RP_RETURN_IF_ERROR(DecodeAttributes(r, false, &c.attributes));
  RP_RETURN_IF_ERROR(DecodeIdentifiers(r, "identifiers", &c.identifiers));
  RP_RETURN_IF_ERROR(DecodeSource(r, &c.source));
  RP_RETURN_IF_ERROR(r.Time("validFrom", &c.valid_from));
  RP_RETURN_IF_ERROR(r.Finish());
  return c;
}

Result<customer::CustomerRecord> DecodeCustomerRecord(const rapidjson::Value& v, std::string pointer,
                                                      bool key_in_body) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(v, std::move(pointer)));
  customer::CustomerRecord rec;
  if (key_in_body) RP_RETURN_IF_ERROR(r.String("sourceKey", &rec.source_key, Need::kRequired));
  std::string kind;
  RP_RETURN_IF_ERROR(r.String("kind", &kind, Need::kRequired));
  auto k = customer::ParseKind(kind);
  if (!k.ok()) return Status::InvalidArgument(k.status().message(), r.Pointer("kind"));
  rec.kind = *k;
  RP_RETURN_IF_ERROR(DecodeAttributes(r, true, &rec.attributes));
  RP_RETURN_IF_ERROR(DecodeIdentifiers(r, "identifiers", &rec.identifiers));
  RP_RETURN_IF_ERROR(r.Time("validFrom", &rec.valid_from));
  RP_RETURN_IF_ERROR(r.Finish());
  return rec;
}

Result<customer::CustomerPatch> DecodeCustomerPatch(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::CustomerPatch p;
  RP_RETURN_IF_ERROR(DecodeAttributes(r, true, &p.attributes));
  RP_RETURN_IF_ERROR(DecodeIdentifiers(r, "addIdentifiers", &p.add_identifiers));
  RP_RETURN_IF_ERROR(DecodeIdentifiers(r, "removeIdentifiers", &p.remove_identifiers));
  RP_RETURN_IF_ERROR(DecodeSource(r, &p.source));
  RP_RETURN_IF_ERROR(r.Time("validFrom", &p.valid_from));
  RP_RETURN_IF_ERROR(r.Finish());
  return p;
}

Result<customer::Relationship> DecodeRelationship(const rapidjson::Value& body, customer::CustomerId from) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::Relationship rel;
  rel.from = from;
  RP_RETURN_IF_ERROR(r.Int64("to", &rel.to, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("type", &rel.type, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("role", &rel.role));
  std::optional<Timestamp> valid_from;
  RP_RETURN_IF_ERROR(r.Time("validFrom", &valid_from));
  if (valid_from) rel.valid_from = *valid_from;
  RP_RETURN_IF_ERROR(r.Time("validTo", &rel.valid_to));
  RP_RETURN_IF_ERROR(DecodeSource(r, &rel.source));
  RP_RETURN_IF_ERROR(r.Finish());
  return rel;
}

Result<customer::Account> DecodeAccount(const rapidjson::Value& body, CustomerRef* ref) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::Account a;
  RP_RETURN_IF_ERROR(DecodeCustomerRef(r, ref));
  RP_RETURN_IF_ERROR(DecodeSource(r, &a.source));
  RP_RETURN_IF_ERROR(r.String("sourceKey", &a.source_key, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("product", &a.product, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("status", &a.status));
  RP_RETURN_IF_ERROR(r.Time("openedAt", &a.opened_at));
  RP_RETURN_IF_ERROR(r.Time("closedAt", &a.closed_at));
  RP_RETURN_IF_ERROR(r.Money("balance", &a.balance));
  RP_RETURN_IF_ERROR(r.String("currency", &a.currency));
  RP_RETURN_IF_ERROR(r.Finish());
  return a;
}

Result<customer::Transaction> DecodeTransaction(const rapidjson::Value& body, CustomerRef* ref) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::Transaction t;
  RP_RETURN_IF_ERROR(DecodeCustomerRef(r, ref));
  RP_RETURN_IF_ERROR(r.Int64("accountId", &t.account_id));
  RP_RETURN_IF_ERROR(DecodeSource(r, &t.source));
  RP_RETURN_IF_ERROR(r.String("sourceKey", &t.source_key));
  RP_RETURN_IF_ERROR(r.Time("occurredAt", &t.occurred_at));
  RP_RETURN_IF_ERROR(r.String("channel", &t.channel));
  RP_RETURN_IF_ERROR(r.String("location", &t.location));
  RP_RETURN_IF_ERROR(r.String("sku", &t.sku));
  RP_RETURN_IF_ERROR(r.String("item", &t.item));
  RP_RETURN_IF_ERROR(r.String("category", &t.category));
  RP_RETURN_IF_ERROR(r.Double("quantity", &t.quantity));
  RP_RETURN_IF_ERROR(r.Money("amount", &t.amount, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("currency", &t.currency));
  RP_RETURN_IF_ERROR(r.Finish());
  return t;
}

Result<customer::Interaction> DecodeInteraction(const rapidjson::Value& body, CustomerRef* ref) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::Interaction i;
  RP_RETURN_IF_ERROR(DecodeCustomerRef(r, ref));
  RP_RETURN_IF_ERROR(DecodeSource(r, &i.source));
  RP_RETURN_IF_ERROR(r.String("sourceKey", &i.source_key));
  RP_RETURN_IF_ERROR(r.Time("occurredAt", &i.occurred_at));
  RP_RETURN_IF_ERROR(r.String("agent", &i.agent));
  RP_RETURN_IF_ERROR(r.String("department", &i.department));
  RP_RETURN_IF_ERROR(r.String("type", &i.type, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("purpose", &i.purpose));
  RP_RETURN_IF_ERROR(r.String("channel", &i.channel, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("touchPoint", &i.touch_point));
  RP_RETURN_IF_ERROR(r.String("direction", &i.direction));
  RP_RETURN_IF_ERROR(r.String("reason", &i.reason));
  RP_RETURN_IF_ERROR(r.String("campaign", &i.campaign));
  RP_RETURN_IF_ERROR(r.String("outcome", &i.outcome));
  if (const rapidjson::Value* p = r.Find("properties")) {
    if (!p->IsObject()) {
      return Status::InvalidArgument("expected an object, got " + std::string(json::TypeName(*p)), "/properties");
    }
    i.properties_json = json::Writer().Value(*p).Take();
  }
  RP_RETURN_IF_ERROR(r.Finish());
  return i;
}

Result<customer::Consent> DecodeConsent(const rapidjson::Value& body, customer::CustomerId id, std::string channel) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::Consent c;
  c.customer_id = id;
  c.channel = std::move(channel);
  RP_RETURN_IF_ERROR(r.String("purpose", &c.purpose));
  if (c.purpose.empty()) c.purpose = "marketing";
  RP_RETURN_IF_ERROR(r.Bool("granted", &c.granted, Need::kRequired));
  RP_RETURN_IF_ERROR(r.Time("at", &c.at));
  RP_RETURN_IF_ERROR(DecodeSource(r, &c.source));
  RP_RETURN_IF_ERROR(r.Finish());
  return c;
}

Result<customer::AttributeDefinition> DecodeAttributeDefinition(const rapidjson::Value& body) {
  RP_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(body, ""));
  customer::AttributeDefinition d;
  RP_RETURN_IF_ERROR(r.String("name", &d.name, Need::kRequired));
  std::string type;
  RP_RETURN_IF_ERROR(r.String("type", &type, Need::kRequired));
  auto t = customer::ParseAttributeType(type);
  if (!t.ok()) return Status::InvalidArgument(t.status().message(), "/type");
  d.type = *t;
  RP_RETURN_IF_ERROR(r.Bool("pii", &d.pii));
  RP_RETURN_IF_ERROR(r.String("description", &d.description));
  RP_RETURN_IF_ERROR(r.Finish());
  return d;
}

// ---- encoders ------------------------------------------------------------------

void WriteAttributeValue(json::Writer& w, const AttributeValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          w.Null();
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.String(x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.Int(x);
        } else if constexpr (std::is_same_v<T, double>) {
          w.Double(x);
        } else {
          w.Bool(x);
        }
      },
      v);
}

void WriteCustomer(json::Writer& w, const customer::Customer& c, const Mask& m) {
  w.StartObject();
  w.Field("id", c.id);
  w.Field("kind", customer::KindName(c.kind));
  w.Field("displayName", m.HidesName() ? std::string(kMasked) : c.display_name);
  w.Key("attributes").StartObject();
  for (const auto& [name, value] : c.attributes) {
    w.Key(name);
    WriteMaybeMasked(w, value, m.Hides(name));
  }
  w.EndObject();
  w.Key("identifiers").StartArray();
  for (const auto& id : c.identifiers) {
    bool hidden = (id.scheme == "email" && m.Hides("email")) || (id.scheme == "phone" && m.Hides("phone"));
    w.String(hidden ? id.scheme + ":" + std::string(kMasked) : id.ToString());
  }
  w.EndArray();
  w.TimeField("createdAt", c.created_at);
  w.TimeField("updatedAt", c.updated_at);
  w.EndObject();
}

void WriteSummary(json::Writer& w, const customer::CustomerSummary& s, const Mask& m) {
  w.StartObject();
  w.Field("id", s.id);
  w.Field("kind", customer::KindName(s.kind));
  w.Field("displayName", m.HidesName() ? std::string(kMasked) : s.display_name);
  if (!s.email.empty()) w.Field("email", m.Hides("email") ? std::string(kMasked) : s.email);
  if (!s.phone.empty()) w.Field("phone", m.Hides("phone") ? std::string(kMasked) : s.phone);
  w.EndObject();
}

void WriteRelationship(json::Writer& w, const customer::Relationship& r) {
  w.StartObject();
  w.Field("id", r.id);
  w.Field("from", r.from);
  w.Field("to", r.to);
  w.Field("type", r.type);
  WriteOptionalText(w, "role", r.role);
  w.TimeField("validFrom", r.valid_from);
  w.TimeField("validTo", r.valid_to);
  w.Field("source", r.source);
  w.EndObject();
}

void WriteAccount(json::Writer& w, const customer::Account& a) {
  w.StartObject();
  w.Field("id", a.id);
  w.Field("customerId", a.customer_id);
  w.Field("source", a.source);
  w.Field("sourceKey", a.source_key);
  w.Field("product", a.product);
  w.Field("status", a.status);
  w.TimeField("openedAt", a.opened_at);
  w.TimeField("closedAt", a.closed_at);
  w.Field("balance", a.balance);
  w.Field("currency", a.currency);
  w.EndObject();
}

void WriteTransaction(json::Writer& w, const customer::Transaction& t) {
  w.StartObject();
  w.Field("id", t.id);
  w.Field("customerId", t.customer_id);
  w.Key("accountId");
  if (t.account_id) {
    w.Int(*t.account_id);
  } else {
    w.Null();
  }
  w.Field("source", t.source);
  WriteOptionalText(w, "sourceKey", t.source_key);
  w.TimeField("occurredAt", t.occurred_at);
  WriteOptionalText(w, "channel", t.channel);
  WriteOptionalText(w, "location", t.location);
  WriteOptionalText(w, "sku", t.sku);
  WriteOptionalText(w, "item", t.item);
  WriteOptionalText(w, "category", t.category);
  w.Field("quantity", t.quantity);
  w.Field("amount", t.amount);
  w.Field("currency", t.currency);
  w.EndObject();
}

void WriteInteraction(json::Writer& w, const customer::Interaction& i, const Mask& m) {
  w.StartObject();
  w.Field("id", i.id);
  w.Field("customerId", i.customer_id);
  w.Field("source", i.source);
  WriteOptionalText(w, "sourceKey", i.source_key);
  w.TimeField("occurredAt", i.occurred_at);
  WriteOptionalText(w, "agent", i.agent);
  WriteOptionalText(w, "department", i.department);
  w.Field("type", i.type);
  WriteOptionalText(w, "purpose", i.purpose);
  w.Field("channel", i.channel);
  WriteOptionalText(w, "touchPoint", i.touch_point);
  WriteOptionalText(w, "direction", i.direction);
  WriteOptionalText(w, "reason", i.reason);
  WriteOptionalText(w, "campaign", i.campaign);
  WriteOptionalText(w, "outcome", i.outcome);
  bool empty = i.properties_json.empty() || i.properties_json == "{}";
  w.Key("properties").Raw(empty ? "{}" : m.active ? R"({"masked":true})" : i.properties_json);
  w.EndObject();
}

void WriteConsent(json::Writer& w, const customer::Consent& c) {
  w.StartObject();
  w.Field("customerId", c.customer_id);
  w.Field("channel", c.channel);
  w.Field("purpose", c.purpose);
  w.Field("granted", c.granted);
  w.TimeField("at", c.at);
  w.Field("source", c.source);
  w.EndObject();
}

void WriteHistory(json::Writer& w, const std::vector<customer::AttributeChange>& h, const Mask& m) {
  w.StartArray();
  for (const auto& change : h) {
    w.StartObject();
    w.Field("name", change.name);
    w.Key("value");
    WriteMaybeMasked(w, change.value, m.Hides(change.name) && !std::holds_alternative<std::monostate>(change.value));
    w.TimeField("validFrom", change.valid_from);
    w.TimeField("recordedAt", change.recorded_at);
    w.Field("source", change.source);
    w.EndObject();
  }
  w.EndArray();
}

void WriteView(json::Writer& w, const customer::CustomerView& v, const Mask& m) {
  w.StartObject();
  w.Key("customer");
  WriteCustomer(w, v.customer, m);
  w.Key("links").StartArray();
  for (const auto& link : v.links) {
    w.StartObject();
    w.Key("relationship");
    WriteRelationship(w, link.relationship);
    w.Key("customer");
    WriteSummary(w, link.customer, m);
    w.Key("members").StartArray();
    for (const auto& s : link.members) WriteSummary(w, s, m);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("members").StartArray();
  for (const auto& s : v.members) WriteSummary(w, s, m);
  w.EndArray();
  w.Key("accounts").StartArray();
  for (const auto& a : v.accounts) WriteAccount(w, a);
  w.EndArray();
  const auto& ts = v.transaction_summary;
  w.Key("transactionSummary").StartObject();
  w.Field("count", ts.count);
  w.Field("revenue", ts.revenue);
  w.TimeField("firstPurchase", ts.first_purchase);
  w.TimeField("lastPurchase", ts.last_purchase);
  w.Key("topItems").StartArray();
  for (const auto& item : ts.top_items) {
    w.StartObject();
    w.Field("sku", item.sku);
    w.Field("item", item.item);
    w.Field("quantity", item.quantity);
    w.Field("revenue", item.revenue);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.Key("recentTransactions").StartArray();
  for (const auto& t : v.recent_transactions) WriteTransaction(w, t);
  w.EndArray();
  w.Key("recentInteractions").StartArray();
  for (const auto& i : v.recent_interactions) WriteInteraction(w, i, m);
  w.EndArray();
  w.Key("consents").StartArray();
  for (const auto& c : v.consents) WriteConsent(w, c);
  w.EndArray();
  w.Key("sections").StartObject();
  for (const auto& [name, body] : v.sections) w.Key(name).Raw(body);
  w.EndObject();
  w.EndObject();
}

void WriteAttributeDefinition(json::Writer& w, const customer::AttributeDefinition& d) {
  w.StartObject();
  w.Field("name", d.name);
  w.Field("type", customer::AttributeTypeName(d.type));
  w.Field("pii", d.pii);
  w.Field("description", d.description);
  w.EndObject();
}

}  // namespace rapport::server::internal
