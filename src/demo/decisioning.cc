// The demo company's rules, written through the decision module's public
// API, so they pass the same validation and audit as a user's.
#include <string_view>

#include "decision/decision.h"
#include "demo/demo.h"

namespace rapport::demo {
namespace {

struct Entry {
  std::string_view id;
  std::string_view json;
};

// The actions "offers" names. Conditions use non-PII profile columns only.
constexpr Entry kActions[] = {
    {"gold-card",
     R"({"kind": "offer", "name": "Gold card", "channels": ["web", "app", "email"], "value": 100, "cost": 2,
         "businessLever": 1.5, "eligibility": "age >= 18", "suitability": "serviceContacts < 3"})"},
    {"welcome-voucher",
     R"({"kind": "offer", "name": "10 EUR off the first order", "channels": ["web", "app", "email"], "value": 30,
         "cost": 10})"},
    {"home-inspiration",
     R"({"kind": "content", "name": "Ideas for the home", "channels": ["web", "app"], "value": 12})"},
    {"account-review",
     R"({"kind": "message", "name": "Your yearly account review", "channels": ["email", "web"], "value": 60,
         "cost": 5, "eligibility": "kind = \"organization\""})"},
    {"service-callback",
     R"({"kind": "service", "name": "We call you back", "purpose": "service", "channels": ["web", "app"],
         "value": 40, "cost": 8})"},
    {"newsletter",
     R"({"kind": "message", "name": "Monthly newsletter", "channels": ["web", "email"], "value": 5})"},
};

constexpr Entry kPoints[] = {
    {"web-home", R"({"model": "offers", "decision": "Next Offers", "channels": ["web", "app"], "showIn360": true})"},
    {"weekly-email", R"({"model": "offers", "decision": "Next Offers", "channels": ["email"]})"},
};

constexpr Entry kPolicies[] = {
    {"email-consent",
     R"({"kind": "consent", "description": "Marketing e-mail only with the customer's consent",
         "channels": ["email"], "purposes": ["marketing"], "grantedByDefault": false})"},
    {"email-weekly-cap",
     R"({"kind": "frequencyCap", "description": "At most 2 marketing e-mails a week",
         "channels": ["email"], "purposes": ["marketing"], "max": 2, "windowDays": 7})"},
};

}  // namespace

Result<bool> InstallDecisioning(decision::DecisionEngine& engine) {
  RP_ASSIGN_OR_RETURN(auto models, engine.ListModels());
  for (const auto& m : models) {
    if (m.name == kOffersModel) return false;
  }
  // Actions first: publishing checks that every id the model outputs is in
  // the catalog. Decision points after: they need the published decision.
  for (const auto& a : kActions) {
    RP_ASSIGN_OR_RETURN(auto action, decision::ParseAction(a.json, a.id));
    RP_RETURN_IF_ERROR(engine.PutAction(std::move(action)).status());
  }
  const decision::Actor demo{"demo", /*admin=*/true};
  RP_ASSIGN_OR_RETURN(auto v, engine.UploadModel(kOffersDmn, demo));
  RP_RETURN_IF_ERROR(engine.Submit(v.name, v.version, demo, "the demo company's rules").status());
  RP_RETURN_IF_ERROR(engine.Approve(v.name, v.version, demo, "shipped with the demo").status());
  RP_RETURN_IF_ERROR(engine.Publish(v.name, v.version, demo).status());
  for (const auto& p : kPoints) {
    RP_ASSIGN_OR_RETURN(auto point, decision::ParseDecisionPoint(p.json, p.id));
    RP_RETURN_IF_ERROR(engine.PutDecisionPoint(std::move(point)).status());
  }
  for (const auto& p : kPolicies) {
    RP_ASSIGN_OR_RETURN(auto policy, decision::ParseContactPolicy(p.json, p.id));
    RP_RETURN_IF_ERROR(engine.PutPolicy(std::move(policy)).status());
  }
  return true;
}

}  // namespace rapport::demo
