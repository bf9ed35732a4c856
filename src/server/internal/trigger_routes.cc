// Routes of triggers, cases and tasks, and alerts (decision/triggers.h), and
// the interaction.created events that the durable change feed's
// interaction.added changes become for them.

#include <spdlog/spdlog.h>

#include <charconv>

#include "decision/triggers.h"
#include "server/internal/app.h"

namespace rapport::server::internal {
namespace {

Response JsonText(int status, std::string body) { return Response::Json(status, std::move(body)); }

template <typename T, typename F>
Response PageJson(const customer::Page<T>& page, F to_json) {
  json::Writer w;
  w.StartObject().Key("items").StartArray();
  for (const T& item : page.items) w.Raw(to_json(item));
  w.EndArray().Key("nextCursor");
  if (page.next_cursor.empty()) {
    w.Null();
  } else {
    w.String(page.next_cursor);
  }
  w.EndObject();
  return JsonText(200, w.Take());
}

// Definitions and cases are parsed from the raw body by the decision
// module; query parameters are not pointers.
Status FromQuery(Status s) {
  if (s.ok() || s.field().empty() || s.field().front() != '/') return s;
  return Status(s.code(), s.message(), s.field().substr(1));
}

}  // namespace

// The "triggers.interactions" feed subscriber: every interaction added, by
// the API, a bulk upsert or an import, goes onto the tracker's feed as
// interaction.created, keyed by its id, so a batch delivered twice after a
// crash fires each trigger once.
Status App::PublishInteractions(const std::vector<storage::Change>& batch) {
  std::vector<ingest::StoredEvent> events;
  for (const storage::Change& c : batch) {
    if (c.kind != "interaction.added") continue;
    int64_t id = 0;
    auto [end, ec] = std::from_chars(c.key.data(), c.key.data() + c.key.size(), id);
    if (ec != std::errc() || end != c.key.data() + c.key.size()) continue;
    auto got = store_->GetInteraction(id);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) continue;  // gone with its customer
      return got.status();                                          // retried with backoff
    }
    const customer::Interaction& i = *got;
    ingest::StoredEvent e;
    e.customer_id = i.customer_id;
    e.event.type = ingest::EventType::kTrack;
    e.event.event = "interaction.created";
    e.event.message_id = std::to_string(i.id);  // the firing key: the same interaction fires once
    json::Writer w;
    w.StartObject()
        .Field("interactionId", i.id)
        .Field("type", i.type)
        .Field("channel", i.channel)
        .Field("department", i.department)
        .Field("direction", i.direction)
        .Field("purpose", i.purpose)
        .Field("reason", i.reason)
        .Field("outcome", i.outcome)
        .Field("source", i.source)
        .Field("agent", i.agent)
        .Key("properties")
        .Raw(i.properties_json.empty() ? "{}" : i.properties_json)
        .EndObject();
    e.event.properties_json = w.Take();
    e.event.timestamp = i.occurred_at;
    e.event.received_at = c.committed_at;
    events.push_back(std::move(e));
  }
  if (!events.empty()) tracker_->Publish(events);
  return Status::Ok();
}

void App::RegisterTriggerRoutes() {
  using P = Permission;
  decision::TriggerEngineOptions options;
  options.db = db_;
  options.customers = store_;
  options.profile = profile_;
  options.feed = tracker_;
  options.outbound = &outbound_;  // copied by the engine
  if (decision_) {
    // Decide-and-deliver triggers ask the decision engine like any channel
    // does: the decision is logged and its actions count as contacts.
    options.decide = [engine = decision_](customer::CustomerId id, const std::string& point,
                                          const std::string& channel) -> Result<std::string> {
      decision::DecideRequest request;
      request.customer_id = id;
      request.decision_point = point;
      request.channel = channel;
      RP_ASSIGN_OR_RETURN(decision::DecideResult result, engine->Decide(request));
      return decision::ToJson(result);
    };
  }
  auto opened = decision::TriggerEngine::Open(std::move(options));
  if (opened.ok()) {
    triggers_ = std::move(*opened);
  } else {
    spdlog::error("triggers.open_failed error={}", opened.status().ToString());
  }
  if (triggers_ && decision_) {
    // Contact policies suppress marketing while a service case is open
    // (`openCases > 0`). triggers_ is destroyed before decision_, but only
    // after the listener stopped, so no decision asks it then.
    decision_->RegisterFact("openCases", [cases = triggers_.get()](customer::CustomerId id) {
      return feel::Value::Number(cases->OpenCases(id));
    });
  }
  auto must = [this](P p, std::function<Result<Response>(Call&, decision::TriggerEngine&)> h) {
    return Endpoint{p, [this, h = std::move(h)](Call& c) -> Result<Response> {
                      if (!triggers_) return Status::Unavailable("the trigger engine failed to open; see the log");
                      return h(c, *triggers_);
                    }};
  };
  auto& r = router_;
  using Engine = decision::TriggerEngine;

  // ---- triggers ----
  r.Post("/v1/triggers", must(P::kRulesWrite, [](Call& c, Engine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_RETURN_IF_ERROR(c.Body().status());
           RP_ASSIGN_OR_RETURN(auto def, decision::ParseTriggerDefinition(c.request().body));
           RP_ASSIGN_OR_RETURN(auto created, e.Create(def));
           Response res = JsonText(201, decision::TriggerToJson(created));
           res.headers.emplace_back("Location", UrlPath({"v1", "triggers", std::to_string(created.id)}));
           return res;
         }));
  r.Get("/v1/triggers", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& t : e.List()) w.Raw(decision::TriggerToJson(t));
          w.EndArray().EndObject();
          return JsonText(200, w.Take());
        }));
  r.Get("/v1/triggers/{id}", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto t, e.Get(id));
          return JsonText(200, decision::TriggerToJson(t));
        }));
  // Replaces the definition: {"enabled": false, ...} disables a trigger.
  r.Put("/v1/triggers/{id}", must(P::kRulesWrite, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_RETURN_IF_ERROR(c.Body().status());
          RP_ASSIGN_OR_RETURN(auto def, decision::ParseTriggerDefinition(c.request().body));
          RP_ASSIGN_OR_RETURN(auto t, e.Replace(id, def));
          return JsonText(200, decision::TriggerToJson(t));
        }));
  r.Add(Method::kDelete, "/v1/triggers/{id}", must(P::kRulesWrite, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_RETURN_IF_ERROR(e.Delete(id));
          Response res;
          res.status = 204;
          return res;
        }));
  r.Get("/v1/triggers/{id}/firings", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit"}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 500, 50));
          RP_ASSIGN_OR_RETURN(auto page, e.Firings(id, after, static_cast<int>(limit)));
          return PageJson(page, [](const decision::Firing& f) {
            json::Writer w;
            w.StartObject()
                .Field("id", f.id)
                .Field("triggerId", f.trigger_id)
                .Field("eventKey", f.event_key)
                .Field("customerId", f.customer_id)
                .Field("event", f.event)
                .Field("outcome", f.outcome)
                .Field("detail", f.detail)
                .TimeField("firedAt", f.fired_at)
                .EndObject();
            return w.Take();
          });
        }));
  // The delivery log shows what receivers answered, so it is for the roles
  // that manage triggers, not for every reader of customers.
  r.Get("/v1/triggers/{id}/deliveries", must(P::kRulesWrite, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"cursor", "limit"}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 500, 50));
          RP_ASSIGN_OR_RETURN(auto page, e.Deliveries(id, after, static_cast<int>(limit)));
          return PageJson(page, decision::DeliveryToJson);
        }));

  // ---- cases and tasks ----
  r.Get("/v1/cases", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"customerId", "team", "status", "kind", "cursor", "limit"}));
          decision::CaseQuery q;
          RP_ASSIGN_OR_RETURN(q.customer_id, c.IntQuery("customerId", 1, INT64_MAX, 0));
          if (auto* s = c.Query("team")) q.team = *s;
          if (auto* s = c.Query("status")) q.status = *s;
          if (auto* s = c.Query("kind")) q.kind = *s;
          RP_ASSIGN_OR_RETURN(q.after_id, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 500, 50));
          q.limit = static_cast<int>(limit);
          auto page = e.ListCases(q);
          if (!page.ok()) return FromQuery(page.status());
          const bool mask = !c.who().Can(P::kPiiRead);
          return PageJson(*page, [mask](const decision::Case& k) { return decision::CaseToJson(k, mask); });
        }));
  r.Post("/v1/cases", must(P::kCasesWrite, [](Call& c, Engine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_RETURN_IF_ERROR(c.Body().status());
           RP_ASSIGN_OR_RETURN(auto k, decision::ParseNewCase(c.request().body));
           k.created_by = c.who().Actor();
           RP_ASSIGN_OR_RETURN(auto created, e.CreateCase(std::move(k)));
           Response res = JsonText(201, decision::CaseToJson(created, !c.who().Can(P::kPiiRead)));
           res.headers.emplace_back("Location", UrlPath({"v1", "cases", std::to_string(created.id)}));
           return res;
         }));
  r.Get("/v1/cases/{id}", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
          RP_ASSIGN_OR_RETURN(auto k, e.GetCase(id));
          return JsonText(200, decision::CaseToJson(k, !c.who().Can(P::kPiiRead)));
        }));
  r.Patch("/v1/cases/{id}", must(P::kCasesWrite, [](Call& c, Engine& e) -> Result<Response> {
            RP_RETURN_IF_ERROR(c.AllowQuery({}));
            RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
            RP_RETURN_IF_ERROR(c.Body().status());
            RP_ASSIGN_OR_RETURN(auto patch, decision::ParseCasePatch(c.request().body));
            RP_ASSIGN_OR_RETURN(auto k, e.UpdateCase(id, patch));
            return JsonText(200, decision::CaseToJson(k, !c.who().Can(P::kPiiRead)));
          }));

  // ---- alerts ----
  r.Get("/v1/alerts", must(P::kCustomersRead, [](Call& c, Engine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"customerId", "status", "cursor", "limit"}));
          RP_ASSIGN_OR_RETURN(int64_t customer, c.IntQuery("customerId", 1, INT64_MAX, 0));
          bool open_only = true;
          if (auto* s = c.Query("status")) {
            if (*s != "open" && *s != "all") return Status::InvalidArgument("status is open or all", "status");
            open_only = *s == "open";
          }
          RP_ASSIGN_OR_RETURN(int64_t after, c.CursorQuery());
          RP_ASSIGN_OR_RETURN(int64_t limit, c.IntQuery("limit", 1, 500, 50));
          RP_ASSIGN_OR_RETURN(auto page, e.ListAlerts(customer, open_only, after, static_cast<int>(limit)));
          const bool mask = !c.who().Can(P::kPiiRead);
          return PageJson(page, [mask](const decision::Alert& a) { return decision::AlertToJson(a, mask); });
        }));
  r.Post("/v1/alerts/{id}/acknowledge", must(P::kCasesWrite, [](Call& c, Engine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(int64_t id, c.PathId("id"));
           RP_ASSIGN_OR_RETURN(auto a, e.AcknowledgeAlert(id, c.who().Actor()));
           return JsonText(200, decision::AlertToJson(a, !c.who().Can(P::kPiiRead)));
         }));
}

}  // namespace rapport::server::internal
