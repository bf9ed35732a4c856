// Fuzz target for the API's request decoding: the first byte picks a body
// decoder (customer, patch, relationship, account, transaction, interaction,
// consent, attribute), the rest is parsed as a JSON body and decoded. Errors
// must name a JSON pointer and become a well-formed problem document;
// decoded values must encode again. Nothing may crash, hang or leak.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json.h"
#include "server/internal/codec.h"
#include "server/internal/problem.h"
#include "problem_checks.h"

namespace {

using namespace rapport;
using namespace rapport::server::internal;

using rapport::fuzz::Check;
using rapport::fuzz::CheckError;

template <typename T, typename Encode>
void Run(const Result<T>& decoded, Encode encode) {
  if (!decoded.ok()) {
    CheckError(decoded.status());
    return;
  }
  json::Writer w;
  encode(w, *decoded);
  Check(json::Parse(w.Take()).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) return 0;
  int which = data[0] % 8;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  json::ParseLimits limits;
  limits.max_bytes = 32 * 1024;
  auto doc = json::Parse(text, limits);
  if (!doc.ok()) {
    Check(doc.status().code() == StatusCode::kInvalidArgument || doc.status().code() == StatusCode::kPayloadTooLarge);
    Check(json::Parse(ProblemFromStatus(doc.status(), "/fuzz").body).ok());
    return 0;
  }
  const rapidjson::Value& body = **doc;
  const Mask open;
  Mask masked;
  masked.active = true;
  masked.pii = {"email", "name", "firstName"};
  CustomerRef ref;
  switch (which) {
    case 0:
      Run(DecodeNewCustomer(body), [&](json::Writer& w, const customer::NewCustomer& c) {
        customer::Customer out;
        out.kind = c.kind;
        out.attributes = c.attributes;
        out.identifiers = c.identifiers;
        WriteCustomer(w, out, masked);
      });
      break;
    case 1:
      Run(DecodeCustomerPatch(body), [&](json::Writer& w, const customer::CustomerPatch& p) {
        customer::Customer out;
        out.attributes = p.attributes;
        out.identifiers = p.add_identifiers;
        WriteCustomer(w, out, open);
      });
      break;
    case 2:
      Run(DecodeRelationship(body, 1), [](json::Writer& w, const customer::Relationship& r) { WriteRelationship(w, r); });
      break;
    case 3:
      Run(DecodeAccount(body, &ref), [](json::Writer& w, const customer::Account& a) { WriteAccount(w, a); });
      break;
    case 4:
      Run(DecodeTransaction(body, &ref), [](json::Writer& w, const customer::Transaction& t) { WriteTransaction(w, t); });
      break;
    case 5:
      Run(DecodeInteraction(body, &ref), [](json::Writer& w, const customer::Interaction& i) { WriteInteraction(w, i, Mask{}); });
      break;
    case 6:
      Run(DecodeConsent(body, 1, "email"), [](json::Writer& w, const customer::Consent& c) { WriteConsent(w, c); });
      break;
    default:
      Run(DecodeAttributeDefinition(body),
          [](json::Writer& w, const customer::AttributeDefinition& d) { WriteAttributeDefinition(w, d); });
      break;
  }
  return 0;
}
