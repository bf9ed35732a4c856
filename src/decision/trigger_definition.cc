// Trigger definitions: the JSON form of POST /v1/triggers, checked member by
// member (FEEL is compiled later by the engine, which knows the columns).

#include <algorithm>
#include <array>

#include "common/json.h"
#include "common/text.h"
#include "decision/triggers.h"
#include "decision/internal/trigger_json.h"

namespace rapport::decision {
namespace {

constexpr std::array kEventTypes = {"track", "identify", "page", "screen", "group", "alias",
                                    "segment.entered", "segment.exited", "interaction.created"};

bool OneOf(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}

Status Need(bool ok, std::string message, std::string field) {
  return ok ? Status::Ok() : Status::InvalidArgument(std::move(message), std::move(field));
}

Status ReadEvent(const rapidjson::Value& v, EventFilter* out) {
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(v, "/event"));
  RP_RETURN_IF_ERROR(r.String("type", &out->type, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("name", &out->name));
  RP_RETURN_IF_ERROR(r.String("where", &out->where));
  RP_RETURN_IF_ERROR(r.Finish());
  bool known = std::find(kEventTypes.begin(), kEventTypes.end(), out->type) != kEventTypes.end();
  RP_RETURN_IF_ERROR(Need(known,
                          "event type is one of track, identify, page, screen, group, alias, segment.entered, "
                          "segment.exited, interaction.created",
                          "/event/type"));
  if (!out->name.empty() && !OneOf(out->type, {"track", "page", "screen"})) {
    return Status::InvalidArgument("only track, page and screen events have a name; filter others with where",
                                   "/event/name");
  }
  return Need(out->where.size() <= 4000, "at most 4000 characters", "/event/where");
}

Status ReadUrl(json::ObjectReader& r, TriggerAction* a, json::Need need) {
  RP_RETURN_IF_ERROR(r.String("url", &a->url, need));
  if (a->url.empty()) return Status::Ok();
  bool scheme = a->url.rfind("http://", 0) == 0 || a->url.rfind("https://", 0) == 0;
  RP_RETURN_IF_ERROR(Need(scheme && a->url.size() > 8, "expected an http:// or https:// URL", "/action/url"));
  RP_RETURN_IF_ERROR(Need(a->url.size() <= 2000, "at most 2000 characters", "/action/url"));
  RP_RETURN_IF_ERROR(r.String("secret", &a->secret));
  if (!a->secret.empty()) {
    RP_RETURN_IF_ERROR(Need(a->secret.size() >= 16 && a->secret.size() <= 200,
                            "a webhook secret has 16 to 200 characters", "/action/secret"));
  }
  return Status::Ok();
}

Status ReadAction(const rapidjson::Value& v, TriggerAction* a) {
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(v, "/action"));
  std::string type;
  RP_RETURN_IF_ERROR(r.String("type", &type, json::Need::kRequired));
  if (type == "case") {
    a->type = ActionType::kCase;
    RP_RETURN_IF_ERROR(r.String("kind", &a->case_kind));
    RP_RETURN_IF_ERROR(r.String("team", &a->team, json::Need::kRequired));
    RP_RETURN_IF_ERROR(r.String("title", &a->title, json::Need::kRequired));
    RP_RETURN_IF_ERROR(r.String("priority", &a->priority));
    RP_RETURN_IF_ERROR(r.String("assignee", &a->assignee));
    RP_RETURN_IF_ERROR(r.Int64("dueInHours", &a->due_in_hours));
    RP_RETURN_IF_ERROR(Need(OneOf(a->case_kind, {"case", "task"}), "kind is case or task", "/action/kind"));
    RP_RETURN_IF_ERROR(Need(OneOf(a->team, {"service", "sales", "marketing"}), "team is service, sales or marketing",
                            "/action/team"));
    RP_RETURN_IF_ERROR(Need(OneOf(a->priority, {"low", "normal", "high", "urgent"}),
                            "priority is low, normal, high or urgent", "/action/priority"));
    RP_RETURN_IF_ERROR(Need(a->due_in_hours >= 0 && a->due_in_hours <= 24 * 366, "dueInHours is 0 to 8784",
                            "/action/dueInHours"));
    RP_RETURN_IF_ERROR(Need(a->assignee.size() <= 200, "at most 200 characters", "/action/assignee"));
  } else if (type == "webhook") {
    a->type = ActionType::kWebhook;
    RP_RETURN_IF_ERROR(ReadUrl(r, a, json::Need::kRequired));
  } else if (type == "decide") {
    a->type = ActionType::kDecide;
    RP_RETURN_IF_ERROR(r.String("decisionPoint", &a->decision_point, json::Need::kRequired));
    RP_RETURN_IF_ERROR(r.String("channel", &a->channel, json::Need::kRequired));
    RP_RETURN_IF_ERROR(ReadUrl(r, a, json::Need::kOptional));
    RP_RETURN_IF_ERROR(Need(!a->decision_point.empty(), "a decision point is required", "/action/decisionPoint"));
    RP_RETURN_IF_ERROR(Need(!a->channel.empty(), "a channel is required", "/action/channel"));
  } else if (type == "alert") {
    a->type = ActionType::kAlert;
    RP_RETURN_IF_ERROR(r.String("severity", &a->severity));
    RP_RETURN_IF_ERROR(r.String("message", &a->message, json::Need::kRequired));
    RP_RETURN_IF_ERROR(Need(OneOf(a->severity, {"info", "warning", "critical"}),
                            "severity is info, warning or critical", "/action/severity"));
  } else {
    return Status::InvalidArgument("action type is case, webhook, decide or alert", "/action/type");
  }
  return r.Finish();
}

}  // namespace

std::string_view ActionTypeName(ActionType t) {
  switch (t) {
    case ActionType::kCase: return "case";
    case ActionType::kWebhook: return "webhook";
    case ActionType::kDecide: return "decide";
    case ActionType::kAlert: return "alert";
  }
  return "case";
}

Result<TriggerDefinition> ParseTriggerDefinition(std::string_view json_text) {
  RP_ASSIGN_OR_RETURN(auto doc, json::Parse(json_text));
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*doc, ""));
  TriggerDefinition d;
  RP_RETURN_IF_ERROR(r.String("name", &d.name, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.String("description", &d.description));
  RP_RETURN_IF_ERROR(r.Bool("enabled", &d.enabled));
  RP_RETURN_IF_ERROR(r.String("condition", &d.condition));
  RP_RETURN_IF_ERROR(Need(!d.name.empty() && d.name.size() <= 100, "a name has 1 to 100 characters", "/name"));
  // Names are shown in logs, lists and headers of other systems: one line.
  if (Status s = text::CheckIdentifier(d.name, "/name"); !s.ok()) return Status::Unprocessable(s.message(), "/name");
  RP_RETURN_IF_ERROR(Need(d.description.size() <= 2000, "at most 2000 characters", "/description"));
  RP_RETURN_IF_ERROR(Need(d.condition.size() <= 4000, "at most 4000 characters", "/condition"));
  const rapidjson::Value* event = r.Find("event");
  if (event == nullptr) return Status::InvalidArgument("required field is missing", "/event");
  RP_RETURN_IF_ERROR(ReadEvent(*event, &d.event));
  const rapidjson::Value* action = r.Find("action");
  if (action == nullptr) return Status::InvalidArgument("required field is missing", "/action");
  RP_RETURN_IF_ERROR(ReadAction(*action, &d.action));
  RP_RETURN_IF_ERROR(r.Finish());
  return d;
}

namespace internal {

void WriteDefinitionMembers(json::Writer& w, const TriggerDefinition& d, bool with_secret) {
  const TriggerAction& a = d.action;
  w.Field("name", d.name).Field("description", d.description).Field("enabled", d.enabled);
  w.Key("event").StartObject().Field("type", d.event.type);
  if (!d.event.name.empty()) w.Field("name", d.event.name);
  if (!d.event.where.empty()) w.Field("where", d.event.where);
  w.EndObject().Field("condition", d.condition).Key("action").StartObject().Field("type", ActionTypeName(a.type));
  switch (a.type) {
    case ActionType::kCase:
      w.Field("kind", a.case_kind).Field("team", a.team).Field("title", a.title).Field("priority", a.priority);
      if (!a.assignee.empty()) w.Field("assignee", a.assignee);
      if (a.due_in_hours > 0) w.Field("dueInHours", a.due_in_hours);
      break;
    case ActionType::kWebhook: w.Field("url", a.url); break;
    case ActionType::kDecide:
      w.Field("decisionPoint", a.decision_point).Field("channel", a.channel);
      if (!a.url.empty()) w.Field("url", a.url);
      break;
    case ActionType::kAlert: w.Field("severity", a.severity).Field("message", a.message); break;
  }
  if (with_secret && !a.secret.empty()) w.Field("secret", a.secret);
  w.EndObject();
}

std::string DefinitionToJson(const TriggerDefinition& d) {
  json::Writer w;
  w.StartObject();
  WriteDefinitionMembers(w, d, false);
  w.EndObject();
  return w.Take();
}

}  // namespace internal

std::string TriggerToJson(const Trigger& t) {
  json::Writer w;
  w.StartObject().Field("id", t.id);
  internal::WriteDefinitionMembers(w, t.definition, true);
  w.TimeField("createdAt", t.created_at).TimeField("updatedAt", t.updated_at);
  if (!t.error.empty()) w.Field("error", t.error);
  w.EndObject();
  return w.Take();
}

}  // namespace rapport::decision
