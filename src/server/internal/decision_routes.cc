// Decisioning part 1 over HTTP: the rules repository, the actions catalog,
// decision points, contact policies, POST /v1/decide and POST /v1/responses.
// The engine's own JSON forms (decision/decision.h) are the bodies.

#include <spdlog/spdlog.h>

#include <charconv>

#include "common/text.h"
#include "server/internal/app.h"

namespace rapport::server::internal {
namespace {

using decision::DecisionEngine;

Response JsonOf(int status, std::string body) { return Response::Json(status, std::move(body)); }

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// A key acts under its prefix (as before users existed), a person as "user:<id>".
decision::Actor ActorOf(const Call& c) {
  return {c.who().user_id != 0 ? c.who().Actor() : c.who().key_prefix, c.who().Has(Role::kAdmin)};
}

Result<int> VersionParam(const Call& c, const std::string& name, const std::string& text) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1) {
    return Status::InvalidArgument("expected a version number (1, 2, ...), got '" + text + "'", name);
  }
  return v;
}

// Path-named things are reported by their path parameter.
Status FromPathParam(Status s, const std::string& param) {
  if (s.ok() || (s.field() != "id" && s.field() != "name" && s.field() != "version")) return s;
  return Status(s.code(), s.message(), param);
}

// {"comment": "..."} or no body at all.
Result<std::string> CommentOf(Call& c) {
  if (c.request().body.empty()) return std::string();
  RP_ASSIGN_OR_RETURN(auto body, c.Body());
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*body, ""));
  std::string comment;
  RP_RETURN_IF_ERROR(r.String("comment", &comment));
  RP_RETURN_IF_ERROR(r.Finish());
  return comment;
}

// {"version": N}
Result<int> VersionBody(Call& c) {
  RP_ASSIGN_OR_RETURN(auto body, c.Body());
  RP_ASSIGN_OR_RETURN(auto r, json::ObjectReader::Of(*body, ""));
  int64_t v = 0;
  RP_RETURN_IF_ERROR(r.Int64("version", &v, json::Need::kRequired));
  RP_RETURN_IF_ERROR(r.Finish());
  if (v < 1 || v > 1'000'000'000) return Status::InvalidArgument("expected a version number >= 1", "/version");
  return static_cast<int>(v);
}

template <typename T>
std::string ListJson(const std::vector<T>& items) {
  std::string out = "{\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + decision::ToJson(items[i]);
  return out + "]}";
}

}  // namespace

void App::RegisterDecisionRoutes() {
  using P = Permission;
  auto opened = DecisionEngine::Open(db_, profile_, store_);
  if (opened.ok()) {
    decision_ = std::shared_ptr<DecisionEngine>(std::move(*opened));
    decision::RegisterViewSections(*store_, decision_);
  } else {
    spdlog::error("decision.open_failed error={}", opened.status().ToString());
  }
  DecisionEngine* engine = decision_.get();
  auto must = [engine](P p, std::function<Result<Response>(Call&, DecisionEngine&)> h) {
    return Endpoint{p, [engine, h = std::move(h)](Call& c) -> Result<Response> {
                      if (!engine) return Status::Unavailable("the decision engine is not running");
                      return h(c, *engine);
                    }};
  };
  auto& r = router_;

  // ---- rules repository ----
  Endpoint upload = must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
    RP_RETURN_IF_ERROR(c.AllowQuery({}));
    std::string type = c.request().content_type.substr(0, c.request().content_type.find(';'));
    for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type != "application/xml" && type != "text/xml") {
      return Status(StatusCode::kUnsupportedMedia, "a decision model is DMN XML: application/xml or text/xml",
                    "Content-Type");
    }
    // Names in the model (the model's name above all) are served in JSON and
    // headers: a body that is not UTF-8 (or holds NUL) never gets that far.
    RP_RETURN_IF_ERROR(text::CheckText(c.request().body, "body"));
    RP_ASSIGN_OR_RETURN(auto v, e.UploadModel(c.request().body, ActorOf(c)));
    Response res = JsonOf(201, decision::ToJson(v, false));
    res.headers.emplace_back("Location", UrlPath({"v1", "decision-models", v.name, "versions", std::to_string(v.version)}));
    return res;
  });
  upload.accepts_xml = true;
  r.Post("/v1/decision-models", std::move(upload));

  r.Get("/v1/decision-models", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto models, e.ListModels());
          json::Writer w;
          w.StartObject().Key("items").StartArray();
          for (const auto& m : models) {
            w.StartObject().Field("name", m.name).Field("latestVersion", m.latest_version);
            if (m.published_version) w.Field("publishedVersion", *m.published_version);
            else w.Key("publishedVersion").Null();
            w.TimeField("updatedAt", m.updated_at).EndObject();
          }
          w.EndArray().EndObject();
          return JsonOf(200, w.Take());
        }));

  r.Get("/v1/decision-models/{name}/versions", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          auto versions = e.Versions(c.PathText("name"));
          if (!versions.ok()) return FromPathParam(versions.status(), "name");
          std::string out = "{\"items\":[";
          for (size_t i = 0; i < versions->size(); ++i) out += (i ? "," : "") + decision::ToJson((*versions)[i], false);
          return JsonOf(200, out + "]}");
        }));

  r.Get("/v1/decision-models/{name}/versions/{version}",
        must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(int v, VersionParam(c, "version", c.PathText("version")));
          auto got = e.GetVersion(c.PathText("name"), v);
          if (!got.ok()) return got.status();
          return JsonOf(200, decision::ToJson(*got, true));
        }));

  r.Get("/v1/decision-models/{name}/versions/{version}/diff",
        must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({"against"}));
          RP_ASSIGN_OR_RETURN(int v, VersionParam(c, "version", c.PathText("version")));
          int against = v - 1;
          if (const std::string* a = c.Query("against")) {
            RP_ASSIGN_OR_RETURN(against, VersionParam(c, "against", *a));
          } else if (against < 1) {
            return Status::InvalidArgument("version 1 has no earlier version: name one with ?against=", "against");
          }
          RP_ASSIGN_OR_RETURN(auto d, e.Diff(c.PathText("name"), v, against));
          return JsonOf(200, decision::ToJson(d));
        }));

  auto step = [&](const char* verb, P permission, auto fn) {
    r.Post(std::string("/v1/decision-models/{name}/versions/{version}/") + verb,
           must(permission, [fn](Call& c, DecisionEngine& e) -> Result<Response> {
             RP_RETURN_IF_ERROR(c.AllowQuery({}));
             RP_ASSIGN_OR_RETURN(int v, VersionParam(c, "version", c.PathText("version")));
             RP_ASSIGN_OR_RETURN(std::string comment, CommentOf(c));
             RP_ASSIGN_OR_RETURN(auto done, fn(e, c.PathText("name"), v, ActorOf(c), comment));
             return JsonOf(200, decision::ToJson(done, false));
           }));
  };
  step("submit", P::kRulesWrite, [](DecisionEngine& e, const std::string& n, int v, const decision::Actor& a,
                                    const std::string& cm) { return e.Submit(n, v, a, cm); });
  step("approve", P::kRulesApprove, [](DecisionEngine& e, const std::string& n, int v, const decision::Actor& a,
                                       const std::string& cm) { return e.Approve(n, v, a, cm); });
  step("reject", P::kRulesApprove, [](DecisionEngine& e, const std::string& n, int v, const decision::Actor& a,
                                      const std::string& cm) { return e.Reject(n, v, a, cm); });

  r.Post("/v1/decision-models/{name}/publish", must(P::kRulesApprove, [](Call& c, DecisionEngine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(int v, VersionBody(c));
           auto done = e.Publish(c.PathText("name"), v, ActorOf(c));
           if (!done.ok()) {
             const Status& s = done.status();
             return Status(s.code(), s.message(), s.field() == "version" ? "/version" : s.field());
           }
           return JsonOf(200, decision::ToJson(*done, false));
         }));
  r.Post("/v1/decision-models/{name}/rollback", must(P::kRulesApprove, [](Call& c, DecisionEngine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(int v, VersionBody(c));
           auto done = e.Rollback(c.PathText("name"), v, ActorOf(c));
           if (!done.ok()) {
             const Status& s = done.status();
             return Status(s.code(), s.message(), s.field() == "version" ? "/version" : s.field());
           }
           return JsonOf(200, decision::ToJson(*done, false));
         }));

  // ---- actions ----
  r.Get("/v1/actions", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          return JsonOf(200, ListJson(e.ListActions()));
        }));
  r.Get("/v1/actions/{id}", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          auto a = e.GetAction(c.PathText("id"));
          if (!a.ok()) return a.status();
          return JsonOf(200, decision::ToJson(*a));
        }));
  r.Put("/v1/actions/{id}", must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto a, decision::ParseAction(c.request().body, c.PathText("id")));
          RP_ASSIGN_OR_RETURN(auto stored, e.PutAction(std::move(a)));
          return JsonOf(200, decision::ToJson(stored));
        }));
  r.Add(Method::kDelete, "/v1/actions/{id}", must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_RETURN_IF_ERROR(e.DeleteAction(c.PathText("id")));
          return NoContent();
        }));

  // ---- decision points ----
  r.Get("/v1/decision-points", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          return JsonOf(200, ListJson(e.ListDecisionPoints()));
        }));
  r.Get("/v1/decision-points/{name}", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          auto p = e.GetDecisionPoint(c.PathText("name"));
          if (!p.ok()) return p.status();
          return JsonOf(200, decision::ToJson(*p));
        }));
  r.Put("/v1/decision-points/{name}", must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto p, decision::ParseDecisionPoint(c.request().body, c.PathText("name")));
          RP_ASSIGN_OR_RETURN(auto stored, e.PutDecisionPoint(std::move(p)));
          return JsonOf(200, decision::ToJson(stored));
        }));

  // ---- contact policies ----
  r.Get("/v1/contact-policies", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          return JsonOf(200, ListJson(e.ListPolicies()));
        }));
  r.Get("/v1/contact-policies/{name}", must(P::kCustomersRead, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          auto p = e.GetPolicy(c.PathText("name"));
          if (!p.ok()) return p.status();
          return JsonOf(200, decision::ToJson(*p));
        }));
  r.Put("/v1/contact-policies/{name}", must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_ASSIGN_OR_RETURN(auto p, decision::ParseContactPolicy(c.request().body, c.PathText("name")));
          RP_ASSIGN_OR_RETURN(auto stored, e.PutPolicy(std::move(p)));
          return JsonOf(200, decision::ToJson(stored));
        }));
  r.Add(Method::kDelete, "/v1/contact-policies/{name}",
        must(P::kRulesWrite, [](Call& c, DecisionEngine& e) -> Result<Response> {
          RP_RETURN_IF_ERROR(c.AllowQuery({}));
          RP_RETURN_IF_ERROR(e.DeletePolicy(c.PathText("name")));
          return NoContent();
        }));

  // ---- deciding ----
  r.Post("/v1/decide", must(P::kDecide, [](Call& c, DecisionEngine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto rd, json::ObjectReader::Of(*body, ""));
           decision::DecideRequest req;
           int64_t limit = 3;
           RP_RETURN_IF_ERROR(rd.Int64("customerId", &req.customer_id, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.String("channel", &req.channel, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.String("decisionPoint", &req.decision_point, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.Int64("limit", &limit));
           RP_RETURN_IF_ERROR(rd.Bool("explain", &req.explain));
           if (const rapidjson::Value* ctx = rd.Find("context")) {
             if (!ctx->IsObject()) return Status::InvalidArgument("context must be an object", "/context");
             req.context = decision::FeelFromJson(*ctx);
           }
           RP_RETURN_IF_ERROR(rd.Finish());
           if (req.customer_id < 1) return Status::InvalidArgument("expected a customer id >= 1", "/customerId");
           if (limit < 1 || limit > 50) return Status::InvalidArgument("limit must be 1..50", "/limit");
           req.limit = static_cast<int>(limit);
           req.cancelled = c.cancelled();
           RP_ASSIGN_OR_RETURN(auto result, e.Decide(req));
           return JsonOf(200, decision::ToJson(result));
         }));

  r.Post("/v1/responses", must(P::kDecide, [](Call& c, DecisionEngine& e) -> Result<Response> {
           RP_RETURN_IF_ERROR(c.AllowQuery({}));
           RP_ASSIGN_OR_RETURN(auto body, c.Body());
           RP_ASSIGN_OR_RETURN(auto rd, json::ObjectReader::Of(*body, ""));
           std::string decision_id, action_id, outcome;
           RP_RETURN_IF_ERROR(rd.String("decisionId", &decision_id, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.String("actionId", &action_id, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.String("outcome", &outcome, json::Need::kRequired));
           RP_RETURN_IF_ERROR(rd.Finish());
           RP_ASSIGN_OR_RETURN(auto o, decision::ParseOutcome(outcome));
           RP_ASSIGN_OR_RETURN(auto rec, e.RecordResponse(decision_id, action_id, o));
           return JsonOf(201, decision::ToJson(rec));
         }));
}

}  // namespace rapport::server::internal
