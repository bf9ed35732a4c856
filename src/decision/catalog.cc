// The JSON forms of actions, decision points and contact policies, and of
// the engine's results.

#include <date/tz.h>

#include <cmath>
#include <cstdio>

#include "common/json.h"
#include "decision/decision.h"

namespace rapport::decision {
namespace {

using json::Need;
using json::ObjectReader;

// A name with control characters (CR, LF ...) is refused as 422, like every
// name that becomes part of a URL or header; other characters outside the
// set as 400, as before.
Status CheckName(std::string_view s, const char* what, const char* field) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      return Status::Unprocessable(std::string(what) + " cannot hold control characters (CR, LF, TAB ...)", field);
    }
  }
  return Status::Ok();
}

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

Status CheckFeel(const std::string& text, const std::string& pointer) {
  if (text.empty()) return Status::Ok();
  auto compiled = feel::Compile(text);
  if (compiled.ok()) return Status::Ok();
  return Status::InvalidArgument(compiled.status().field() + ": " + compiled.status().message(), pointer);
}

// A condition member: a FEEL string, or {"model": ..., "decision": ...}.
Status ReadCondition(ObjectReader& r, std::string_view key, Condition* out) {
  const rapidjson::Value* v = r.Find(key);
  std::string pointer = r.Pointer(key);
  if (!v) return Status::Ok();
  if (v->IsString()) {
    out->feel.assign(v->GetString(), v->GetStringLength());
    return CheckFeel(out->feel, pointer);
  }
  if (!v->IsObject()) {
    return Status::InvalidArgument(
        "expected a FEEL string or an object {\"model\", \"decision\"}, got " + std::string(json::TypeName(*v)),
        pointer);
  }
  RP_ASSIGN_OR_RETURN(auto c, ObjectReader::Of(*v, pointer));
  RP_RETURN_IF_ERROR(c.String("model", &out->model, Need::kRequired));
  if (out->model.empty()) return Status::InvalidArgument("must not be empty", c.Pointer("model"));
  RP_RETURN_IF_ERROR(c.String("decision", &out->decision, Need::kRequired));
  if (out->decision.empty()) return Status::InvalidArgument("must not be empty", c.Pointer("decision"));
  return c.Finish();
}

void WriteCondition(json::Writer& w, std::string_view key, const Condition& c) {
  if (c.by_decision()) {
    w.Key(key).StartObject().Field("model", c.model).Field("decision", c.decision).EndObject();
  } else if (!c.feel.empty()) {
    w.Field(key, c.feel);
  }
}

Status NonNegative(double v, const std::string& pointer) {
  if (!std::isfinite(v) || v < 0) return Status::InvalidArgument("must be a number >= 0", pointer);
  return Status::Ok();
}

Status Names(ObjectReader& r, std::string_view key, std::vector<std::string>* out) {
  RP_RETURN_IF_ERROR(r.Strings(key, out));
  for (size_t i = 0; i < out->size(); ++i) {
    if ((*out)[i].empty()) return Status::InvalidArgument("must not be empty", json::Child(r.Pointer(key), i));
  }
  return Status::Ok();
}

// "21:30" -> 1290.
Result<int> MinuteOfDay(ObjectReader& r, std::string_view key) {
  std::string s;
  RP_RETURN_IF_ERROR(r.String(key, &s, Need::kRequired));
  if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s[1])) || !std::isdigit(static_cast<unsigned char>(s[3])) ||
      !std::isdigit(static_cast<unsigned char>(s[4]))) {
    return Status::InvalidArgument("expected a local time HH:MM, got '" + s + "'", r.Pointer(key));
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return Status::InvalidArgument("expected a local time HH:MM, got '" + s + "'", r.Pointer(key));
  return h * 60 + m;
}

bool KnownZone(const std::string& zone) {
  try {
    return date::locate_zone(zone) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

std::string Hhmm(int minute) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
  return buf;
}

void WriteStrings(json::Writer& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).StartArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void WriteValue(json::Writer& w, const feel::Value& v) { w.Raw(dmn::ValueToJson(v)); }

void WriteScored(json::Writer& w, const ScoredAction& a) {
  w.StartObject()
      .Field("actionId", a.action_id)
      .Field("name", a.name)
      .Field("kind", ActionKindName(a.kind))
      .Field("purpose", a.purpose)
      .Field("score", a.score)
      .Key("components")
      .StartObject()
      .Field("propensity", a.propensity)
      .Field("value", a.value)
      .Field("businessLever", a.lever)
      .Field("contextWeight", a.context_weight)
      .EndObject()
      .EndObject();
}

}  // namespace

std::string_view VersionStateName(VersionState s) {
  switch (s) {
    case VersionState::kDraft: return "draft";
    case VersionState::kInReview: return "in_review";
    case VersionState::kApproved: return "approved";
    case VersionState::kPublished: return "published";
    case VersionState::kSuperseded: return "superseded";
  }
  return "draft";
}

std::string_view RuleChangeKindName(RuleChange::Kind k) {
  switch (k) {
    case RuleChange::Kind::kAdded: return "added";
    case RuleChange::Kind::kRemoved: return "removed";
    case RuleChange::Kind::kChanged: return "changed";
  }
  return "changed";
}

std::string_view ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kOffer: return "offer";
    case ActionKind::kMessage: return "message";
    case ActionKind::kContent: return "content";
    case ActionKind::kService: return "service";
  }
  return "offer";
}

std::string_view PolicyKindName(PolicyKind k) {
  switch (k) {
    case PolicyKind::kConsent: return "consent";
    case PolicyKind::kFrequencyCap: return "frequencyCap";
    case PolicyKind::kQuietHours: return "quietHours";
    case PolicyKind::kSuppression: return "suppression";
    case PolicyKind::kControlGroup: return "controlGroup";
  }
  return "consent";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAccepted: return "accepted";
    case Outcome::kIgnored: return "ignored";
    case Outcome::kRejected: return "rejected";
  }
  return "ignored";
}

Result<Outcome> ParseOutcome(std::string_view s) {
  if (s == "accepted") return Outcome::kAccepted;
  if (s == "ignored") return Outcome::kIgnored;
  if (s == "rejected") return Outcome::kRejected;
  return Status::InvalidArgument("outcome is accepted, ignored or rejected, not '" + std::string(s) + "'",
                                 "/outcome");
}

// ---- parsing ---------------------------------------------------------------

Result<Action> ParseAction(std::string_view text, std::string_view id) {
  RP_RETURN_IF_ERROR(CheckName(id, "an action id", "id"));
  if (!ValidName(id)) {
    return Status::InvalidArgument("an action id is 1-100 letters, digits, '_', '-' or '.'", "id");
  }
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(text));
  RP_ASSIGN_OR_RETURN(auto r, ObjectReader::Of(*doc, ""));
  Action a;
  a.id = std::string(id);
  std::string body_id, kind;
  RP_RETURN_IF_ERROR(r.String("id", &body_id));
  if (!body_id.empty() && body_id != a.id) {
    return Status::InvalidArgument("the id in the body differs from the path's", "/id");
  }
  RP_RETURN_IF_ERROR(r.String("kind", &kind, Need::kRequired));
  if (kind == "offer") a.kind = ActionKind::kOffer;
  else if (kind == "message") a.kind = ActionKind::kMessage;
  else if (kind == "content") a.kind = ActionKind::kContent;
  else if (kind == "service") a.kind = ActionKind::kService;
  else return Status::InvalidArgument("kind is offer, message, content or service, not '" + kind + "'", "/kind");
  RP_RETURN_IF_ERROR(r.String("name", &a.name, Need::kRequired));
  RP_RETURN_IF_ERROR(Names(r, "channels", &a.channels));
  RP_RETURN_IF_ERROR(r.String("purpose", &a.purpose));
  if (a.purpose.empty()) return Status::InvalidArgument("must not be empty", "/purpose");
  RP_RETURN_IF_ERROR(r.Double("value", &a.value));
  RP_RETURN_IF_ERROR(NonNegative(a.value, "/value"));
  RP_RETURN_IF_ERROR(r.Double("cost", &a.cost));
  RP_RETURN_IF_ERROR(NonNegative(a.cost, "/cost"));
  RP_RETURN_IF_ERROR(r.Double("businessLever", &a.business_lever));
  RP_RETURN_IF_ERROR(NonNegative(a.business_lever, "/businessLever"));
  RP_RETURN_IF_ERROR(r.Time("validFrom", &a.valid_from));
  RP_RETURN_IF_ERROR(r.Time("validTo", &a.valid_to));
  if (a.valid_from && a.valid_to && *a.valid_to <= *a.valid_from) {
    return Status::InvalidArgument("validTo must be after validFrom", "/validTo");
  }
  RP_RETURN_IF_ERROR(ReadCondition(r, "eligibility", &a.eligibility));
  RP_RETURN_IF_ERROR(ReadCondition(r, "applicability", &a.applicability));
  RP_RETURN_IF_ERROR(ReadCondition(r, "suitability", &a.suitability));
  r.Find("updatedAt");  // echoed back by clients that PUT what they GOT
  RP_RETURN_IF_ERROR(r.Finish());
  return a;
}

Result<DecisionPoint> ParseDecisionPoint(std::string_view text, std::string_view name) {
  RP_RETURN_IF_ERROR(CheckName(name, "a decision point name", "name"));
  if (!ValidName(name)) {
    return Status::InvalidArgument("a decision point name is 1-100 letters, digits, '_', '-' or '.'", "name");
  }
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(text));
  RP_ASSIGN_OR_RETURN(auto r, ObjectReader::Of(*doc, ""));
  DecisionPoint p;
  p.name = std::string(name);
  std::string body_name;
  RP_RETURN_IF_ERROR(r.String("name", &body_name));
  if (!body_name.empty() && body_name != p.name) {
    return Status::InvalidArgument("the name in the body differs from the path's", "/name");
  }
  RP_RETURN_IF_ERROR(r.String("model", &p.model, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("decision", &p.decision, Need::kRequired));
  RP_RETURN_IF_ERROR(Names(r, "channels", &p.channels));
  RP_RETURN_IF_ERROR(r.Bool("showIn360", &p.show_in_360));
  if (const rapidjson::Value* w = r.Find("weights")) {
    RP_ASSIGN_OR_RETURN(auto wr, ObjectReader::Of(*w, "/weights"));
    RP_RETURN_IF_ERROR(wr.Double("propensity", &p.propensity_weight));
    RP_RETURN_IF_ERROR(NonNegative(p.propensity_weight, "/weights/propensity"));
    RP_RETURN_IF_ERROR(wr.Double("value", &p.value_weight));
    RP_RETURN_IF_ERROR(NonNegative(p.value_weight, "/weights/value"));
    RP_RETURN_IF_ERROR(wr.Double("businessLever", &p.lever_weight));
    RP_RETURN_IF_ERROR(NonNegative(p.lever_weight, "/weights/businessLever"));
    RP_RETURN_IF_ERROR(wr.Double("contextWeight", &p.context_weight));
    RP_RETURN_IF_ERROR(NonNegative(p.context_weight, "/weights/contextWeight"));
    RP_RETURN_IF_ERROR(wr.Finish());
  }
  r.Find("updatedAt");
  RP_RETURN_IF_ERROR(r.Finish());
  return p;
}

Result<ContactPolicy> ParseContactPolicy(std::string_view text, std::string_view name) {
  RP_RETURN_IF_ERROR(CheckName(name, "a policy name", "name"));
  if (!ValidName(name)) {
    return Status::InvalidArgument("a policy name is 1-100 letters, digits, '_', '-' or '.'", "name");
  }
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(text));
  RP_ASSIGN_OR_RETURN(auto r, ObjectReader::Of(*doc, ""));
  ContactPolicy p;
  p.name = std::string(name);
  std::string body_name, kind;
  RP_RETURN_IF_ERROR(r.String("name", &body_name));
  if (!body_name.empty() && body_name != p.name) {
    return Status::InvalidArgument("the name in the body differs from the path's", "/name");
  }
  RP_RETURN_IF_ERROR(r.String("kind", &kind, Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("description", &p.description));
  RP_RETURN_IF_ERROR(r.Bool("enabled", &p.enabled));
  RP_RETURN_IF_ERROR(Names(r, "channels", &p.channels));
  RP_RETURN_IF_ERROR(Names(r, "purposes", &p.purposes));
  RP_RETURN_IF_ERROR(Names(r, "decisionPoints", &p.decision_points));
  if (kind == "consent") {
    p.kind = PolicyKind::kConsent;
    RP_RETURN_IF_ERROR(r.Bool("grantedByDefault", &p.granted_by_default));
  } else if (kind == "frequencyCap") {
    p.kind = PolicyKind::kFrequencyCap;
    std::string scope = "customer";
    RP_RETURN_IF_ERROR(r.String("scope", &scope));
    if (scope == "customer") p.scope = ContactPolicy::Scope::kCustomer;
    else if (scope == "household") p.scope = ContactPolicy::Scope::kHousehold;
    else return Status::InvalidArgument("scope is customer or household, not '" + scope + "'", "/scope");
    RP_RETURN_IF_ERROR(r.Bool("perChannel", &p.per_channel));
    int64_t max = -1;
    RP_RETURN_IF_ERROR(r.Int64("max", &max, Need::kRequired));
    if (max < 0 || max > 1'000'000) return Status::InvalidArgument("must be an integer 0..1000000", "/max");
    p.max_contacts = static_cast<int>(max);
    std::optional<int64_t> days, hours;
    RP_RETURN_IF_ERROR(r.Int64("windowDays", &days));
    RP_RETURN_IF_ERROR(r.Int64("windowHours", &hours));
    if (days.has_value() == hours.has_value()) {
      return Status::InvalidArgument("give the rolling window as windowDays or windowHours", "/windowDays");
    }
    if (days && (*days < 1 || *days > 3660)) return Status::InvalidArgument("must be 1..3660", "/windowDays");
    if (hours && (*hours < 1 || *hours > 87840)) return Status::InvalidArgument("must be 1..87840", "/windowHours");
    p.window_micros = days ? *days * kMicrosPerDay : *hours * 3600 * kMicrosPerSecond;
  } else if (kind == "quietHours") {
    p.kind = PolicyKind::kQuietHours;
    RP_ASSIGN_OR_RETURN(p.start_minute, MinuteOfDay(r, "start"));
    RP_ASSIGN_OR_RETURN(p.end_minute, MinuteOfDay(r, "end"));
    if (p.start_minute == p.end_minute) return Status::InvalidArgument("start and end are the same time", "/end");
    RP_RETURN_IF_ERROR(r.String("defaultTimeZone", &p.default_time_zone));
    if (!p.default_time_zone.empty() && !KnownZone(p.default_time_zone)) {
      return Status::InvalidArgument("not an IANA time zone: '" + p.default_time_zone + "'", "/defaultTimeZone");
    }
  } else if (kind == "suppression") {
    p.kind = PolicyKind::kSuppression;
    RP_RETURN_IF_ERROR(r.String("condition", &p.condition, Need::kRequired));
    RP_RETURN_IF_ERROR(CheckFeel(p.condition, "/condition"));
  } else if (kind == "controlGroup") {
    p.kind = PolicyKind::kControlGroup;
    RP_RETURN_IF_ERROR(r.Double("percent", &p.percent, Need::kRequired));
    if (!(p.percent >= 0 && p.percent <= 100)) return Status::InvalidArgument("must be 0..100", "/percent");
  } else {
    return Status::InvalidArgument(
        "kind is consent, frequencyCap, quietHours, suppression or controlGroup, not '" + kind + "'", "/kind");
  }
  r.Find("updatedAt");
  RP_RETURN_IF_ERROR(r.Finish());
  return p;
}

// ---- writing ---------------------------------------------------------------

std::string ToJson(const Action& a) {
  json::Writer w;
  w.StartObject().Field("id", a.id).Field("kind", ActionKindName(a.kind)).Field("name", a.name);
  WriteStrings(w, "channels", a.channels);
  w.Field("purpose", a.purpose).Field("value", a.value).Field("cost", a.cost).Field("businessLever", a.business_lever);
  if (a.valid_from) w.TimeField("validFrom", *a.valid_from);
  if (a.valid_to) w.TimeField("validTo", *a.valid_to);
  WriteCondition(w, "eligibility", a.eligibility);
  WriteCondition(w, "applicability", a.applicability);
  WriteCondition(w, "suitability", a.suitability);
  w.TimeField("updatedAt", a.updated_at).EndObject();
  return w.Take();
}

std::string ToJson(const DecisionPoint& p) {
  json::Writer w;
  w.StartObject().Field("name", p.name).Field("model", p.model).Field("decision", p.decision);
  WriteStrings(w, "channels", p.channels);
  w.Key("weights")
      .StartObject()
      .Field("propensity", p.propensity_weight)
      .Field("value", p.value_weight)
      .Field("businessLever", p.lever_weight)
      .Field("contextWeight", p.context_weight)
      .EndObject();
  w.Field("showIn360", p.show_in_360).TimeField("updatedAt", p.updated_at).EndObject();
  return w.Take();
}

std::string ToJson(const ContactPolicy& p) {
  json::Writer w;
  w.StartObject().Field("name", p.name).Field("kind", PolicyKindName(p.kind));
  if (!p.description.empty()) w.Field("description", p.description);
  w.Field("enabled", p.enabled);
  WriteStrings(w, "channels", p.channels);
  WriteStrings(w, "purposes", p.purposes);
  WriteStrings(w, "decisionPoints", p.decision_points);
  switch (p.kind) {
    case PolicyKind::kConsent: w.Field("grantedByDefault", p.granted_by_default); break;
    case PolicyKind::kFrequencyCap:
      w.Field("scope", p.scope == ContactPolicy::Scope::kHousehold ? "household" : "customer")
          .Field("perChannel", p.per_channel)
          .Field("max", p.max_contacts);
      if (p.window_micros % kMicrosPerDay == 0) w.Field("windowDays", p.window_micros / kMicrosPerDay);
      else w.Field("windowHours", p.window_micros / (3600 * kMicrosPerSecond));
      break;
    case PolicyKind::kQuietHours:
      w.Field("start", Hhmm(p.start_minute)).Field("end", Hhmm(p.end_minute));
      if (!p.default_time_zone.empty()) w.Field("defaultTimeZone", p.default_time_zone);
      break;
    case PolicyKind::kSuppression: w.Field("condition", p.condition); break;
    case PolicyKind::kControlGroup: w.Field("percent", p.percent); break;
  }
  w.TimeField("updatedAt", p.updated_at).EndObject();
  return w.Take();
}

std::string ToJson(const ModelVersion& v, bool with_xml) {
  json::Writer w;
  w.StartObject()
      .Field("name", v.name)
      .Field("version", v.version)
      .Field("state", VersionStateName(v.state))
      .Field("author", v.author)
      .TimeField("createdAt", v.created_at);
  if (with_xml) w.Field("xml", v.xml);
  w.Key("audit").StartArray();
  for (const auto& e : v.audit) {
    w.StartObject().Field("action", e.action).Field("actor", e.actor).TimeField("at", e.at);
    if (!e.comment.empty()) w.Field("comment", e.comment);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

std::string ToJson(const ModelDiff& d) {
  json::Writer w;
  w.StartObject().Field("name", d.name).Field("from", d.from_version).Field("to", d.to_version);
  w.Key("rules").StartArray();
  for (const auto& c : d.rules) {
    w.StartObject().Field("change", RuleChangeKindName(c.kind)).Field("decision", c.decision);
    if (!c.rule_id.empty()) w.Field("ruleId", c.rule_id);
    if (c.from_rule) w.Field("fromRule", c.from_rule);
    if (c.to_rule) w.Field("toRule", c.to_rule);
    if (c.kind != RuleChange::Kind::kAdded) WriteStrings(w, "before", c.before);
    if (c.kind != RuleChange::Kind::kRemoved) WriteStrings(w, "after", c.after);
    w.EndObject();
  }
  w.EndArray();
  WriteStrings(w, "text", d.text);
  w.EndObject();
  return w.Take();
}

std::string ToJson(const DecideResult& r) {
  json::Writer w;
  w.StartObject();
  if (!r.decision_id.empty()) w.Field("decisionId", r.decision_id);
  w.Field("customerId", r.customer_id)
      .Field("decisionPoint", r.decision_point)
      .Field("channel", r.channel)
      .Key("model")
      .StartObject()
      .Field("name", r.model)
      .Field("version", r.model_version)
      .EndObject()
      .TimeField("at", r.at)
      .Field("controlGroup", r.control_group);
  w.Key("actions").StartArray();
  for (const auto& a : r.actions) WriteScored(w, a);
  w.EndArray();
  if (r.explanation) {
    const DecideExplanation& e = *r.explanation;
    w.Key("explanation").StartObject();
    w.Key("model").StartObject().Field("name", e.model).Field("version", e.model_version).Field("decision", e.decision).EndObject();
    w.Key("inputs").StartObject();
    for (const auto& [name, value] : e.inputs) {
      w.Key(name);
      WriteValue(w, value);
    }
    w.EndObject();
    w.Key("rulesMatched").StartArray();
    for (const auto& t : e.rules.tables) {
      w.StartObject().Field("decision", t.element).Field("hitPolicy", t.hit_policy);
      w.Key("rules").StartArray();
      for (size_t i = 0; i < t.matched_rules.size(); ++i) {
        w.StartObject().Field("rule", t.matched_rules[i]);
        if (i < t.matched_rule_ids.size() && !t.matched_rule_ids[i].empty()) w.Field("ruleId", t.matched_rule_ids[i]);
        w.EndObject();
      }
      w.EndArray().Key("result");
      WriteValue(w, t.result);
      w.EndObject();
    }
    w.EndArray();
    WriteStrings(w, "candidates", e.candidates);
    w.Key("scored").StartArray();
    for (const auto& a : e.scored) WriteScored(w, a);
    w.EndArray();
    w.Key("removed").StartArray();
    for (const auto& m : e.removed) {
      w.StartObject()
          .Field("actionId", m.action_id)
          .Field("stage", m.stage)
          .Field("by", m.by)
          .Field("reason", m.reason)
          .EndObject();
    }
    w.EndArray();
    WriteStrings(w, "messages", e.messages);
    w.EndObject();
  }
  w.EndObject();
  return w.Take();
}

std::string ToJson(const ResponseRecord& r) {
  json::Writer w;
  w.StartObject()
      .Field("id", r.id)
      .Field("decisionId", r.decision_id)
      .Field("actionId", r.action_id)
      .Field("outcome", OutcomeName(r.outcome))
      .Field("customerId", r.customer_id)
      .Field("decisionPoint", r.decision_point)
      .Field("channel", r.channel)
      .TimeField("at", r.at)
      .EndObject();
  return w.Take();
}

std::string ToJson(const LoggedDecision& d) {
  json::Writer w;
  w.StartObject()
      .Field("decisionId", d.decision_id)
      .Field("customerId", d.customer_id)
      .Field("decisionPoint", d.decision_point)
      .Field("channel", d.channel)
      .Key("model")
      .StartObject()
      .Field("name", d.model)
      .Field("version", d.model_version)
      .EndObject();
  WriteStrings(w, "actions", d.actions);
  w.TimeField("at", d.at).EndObject();
  return w.Take();
}

}  // namespace rapport::decision
