#pragma once
// JSON codecs of the customer API: strict decoders from request bodies (every
// error names its field as a JSON pointer; unknown fields are rejected) and
// encoders of responses (camelCase, RFC 3339 UTC), with PII masking for roles
// that lack pii:read. Pure functions: the fuzz target drives the decoders.

#include <optional>
#include <set>
#include <string>

#include "common/json.h"
#include "customer/customer.h"

namespace rapport::server::internal {

// Which customer a body refers to: "customerId": 42 or "customer": "email:a@b.example".
struct CustomerRef {
  customer::CustomerId id = 0;
  std::optional<customer::Identifier> identifier;
};

Result<customer::NewCustomer> DecodeNewCustomer(const rapidjson::Value& body);
Result<customer::CustomerPatch> DecodeCustomerPatch(const rapidjson::Value& body);
// A source system's record, upserted by its key: {kind, attributes,
// identifiers, validFrom}. pointer locates it in the body ("" or
// "/records/3"); the source and key come from the path or the record.
Result<customer::CustomerRecord> DecodeCustomerRecord(const rapidjson::Value& v, std::string pointer,
                                                      bool key_in_body);
// The from side comes from the path.
Result<customer::Relationship> DecodeRelationship(const rapidjson::Value& body, customer::CustomerId from);
Result<customer::Account> DecodeAccount(const rapidjson::Value& body, CustomerRef* ref);
Result<customer::Transaction> DecodeTransaction(const rapidjson::Value& body, CustomerRef* ref);
Result<customer::Interaction> DecodeInteraction(const rapidjson::Value& body, CustomerRef* ref);
// The customer and channel come from the path.
Result<customer::Consent> DecodeConsent(const rapidjson::Value& body, customer::CustomerId id, std::string channel);
Result<customer::AttributeDefinition> DecodeAttributeDefinition(const rapidjson::Value& body);

// What a reader may not see: the catalog's PII attributes, when the role
// lacks pii:read. Masked values read "***".
struct Mask {
  bool active = false;
  std::set<std::string> pii;  // attribute names
  bool Hides(const std::string& attribute) const { return active && pii.count(attribute) > 0; }
  bool HidesName() const { return Hides("name") || Hides("firstName") || Hides("lastName"); }
};
inline constexpr std::string_view kMasked = "***";

void WriteAttributeValue(json::Writer& w, const customer::AttributeValue& v);
void WriteCustomer(json::Writer& w, const customer::Customer& c, const Mask& m);
void WriteSummary(json::Writer& w, const customer::CustomerSummary& s, const Mask& m);
void WriteRelationship(json::Writer& w, const customer::Relationship& r);
void WriteAccount(json::Writer& w, const customer::Account& a);
void WriteTransaction(json::Writer& w, const customer::Transaction& t);
// An interaction's properties are free text that agents and systems fill
// with whatever the customer said or gave ("new address: ..."), so for a
// role without pii:read (m.active) non-empty properties read
// {"masked":true}, as tracked events' traits do.
void WriteInteraction(json::Writer& w, const customer::Interaction& i, const Mask& m);
void WriteConsent(json::Writer& w, const customer::Consent& c);
void WriteHistory(json::Writer& w, const std::vector<customer::AttributeChange>& h, const Mask& m);
void WriteView(json::Writer& w, const customer::CustomerView& v, const Mask& m);
void WriteAttributeDefinition(json::Writer& w, const customer::AttributeDefinition& d);

}  // namespace rapport::server::internal
